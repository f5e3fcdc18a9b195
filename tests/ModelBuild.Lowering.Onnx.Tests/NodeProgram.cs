using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime.Torch;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>
/// A small graph written by hand, run twice: by TorchSharp's kernels (or, for an operator without one, a reference given
/// with the node), which also give every value its dtype and dims, and lowered to ONNX and run in ONNX Runtime.
/// </summary>
internal sealed class NodeProgram(string name)
{
    private readonly List<(string Name, Tensor Value, string[]? Dims, bool Weight)> _inputs = [];
    private readonly List<(GraphNode Node, Func<Func<string, object>, object?[]>? Reference)> _nodes = [];
    private readonly Dictionary<string, string[]> _dims = new(StringComparer.Ordinal);
    private readonly List<string> _outputs = [];

    public string Name { get; } = name;

    public static TensorArg T(string value) => new(value);

    public static SymInt S(string value) => SymInt.Ref(value);

    /// <summary>An input; <paramref name="dims"/> names its symbolic dims ("s0") where the graph should not know them.</summary>
    public NodeProgram In(string value, Tensor tensor, params string[] dims)
    {
        _inputs.Add((value, tensor, dims.Length == 0 ? null : dims, false));
        return this;
    }

    public NodeProgram Weight(string value, Tensor tensor)
    {
        _inputs.Add((value, tensor, null, true));
        return this;
    }

    public NodeProgram Node(string target, string output, params (string Name, Argument Value)[] inputs) => Node(target, [new TensorArg(output)], null, inputs);

    public NodeProgram Node(string target, Argument[] outputs, Func<Func<string, object>, object?[]>? reference, params (string Name, Argument Value)[] inputs)
    {
        var fullTarget = target.StartsWith("aten.", StringComparison.Ordinal) ? "torch.ops." + target : target;
        _nodes.Add((new GraphNode(fullTarget, [.. inputs.Select(i => new NamedArgument(i.Name, i.Value))], outputs), reference));
        return this;
    }

    /// <summary>The reference of the last node, for an operator TorchSharp has no kernel for: PyTorch's formula.</summary>
    public NodeProgram With(Func<Func<string, object>, object?[]> reference)
    {
        _nodes[^1] = (_nodes[^1].Node, reference);
        return this;
    }

    public IEnumerable<string> Targets => _nodes.Select(n => n.Node.Target);

    /// <summary>Declares the dims the graph records for a value (symbolic where it should not know them).</summary>
    public NodeProgram Dims(string value, params string[] dims)
    {
        _dims[value] = dims;
        return this;
    }

    public NodeProgram Out(params string[] values)
    {
        _outputs.AddRange(values);
        return this;
    }

    /// <summary>Null when ONNX Runtime agrees with the reference on every output, else what differs.</summary>
    public string? Difference(double tolerance = 1e-4)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (value, tensor, _, _) in _inputs)
        {
            values[value] = tensor;
        }
        foreach (var (node, reference) in _nodes)
        {
            var results = reference?.Invoke(n => values[n]) ?? OpKernels.Invoke(node, n => values[n]);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                switch (node.Outputs[i])
                {
                    case TensorArg t:
                        values[t.Name] = results[i]!;
                        break;
                    case TensorsArg ts:
                        for (var j = 0; j < ts.Names.Count; j++)
                        {
                            values[ts.Names[j]] = ((Tensor[])results[i]!)[j];
                        }
                        break;
                    case SymIntArg { Value.Name: { } n }:
                        values[n] = results[i]!;
                        break;
                }
            }
        }
        var graph = Graph(values);
        var model = OnnxLowering.Lower([.. _nodes.Select(n => n.Node)], [.. _inputs.Where(i => !i.Weight).Select(i => i.Name)], _outputs, graph);
        var actual = OnnxSession.Run(model, [.. _inputs.Where(i => !i.Weight).Select(i => Data(i.Value))]);
        for (var o = 0; o < _outputs.Count; o++)
        {
            var expected = values[_outputs[o]] is Tensor t ? Data(t) : Data(tensor((long)values[_outputs[o]]));
            if (TensorComparison.Difference(actual[o], expected, tolerance, tolerance) is { } difference)
            {
                return $"output '{_outputs[o]}': {difference}";
            }
        }
        return null;
    }

    /// <summary>The graph the lowering sees: every tensor's dtype and dims from the reference run (or as declared), every sym-int's value.</summary>
    private ModelGraph Graph(Dictionary<string, object> values)
    {
        TensorMeta Meta(string value, Tensor t) => new(t.dtype.ToTensorDType(),
            _dims.TryGetValue(value, out var declared) ? [.. declared.Select(ParseDim)] : [.. t.shape.Select(Dim.Of)]);
        var metas = values.Where(kv => kv.Value is Tensor).ToDictionary(kv => kv.Key, kv => Meta(kv.Key, (Tensor)kv.Value), StringComparer.Ordinal);
        foreach (var (value, tensor, dims, _) in _inputs.Where(i => i.Dims is not null))
        {
            metas[value] = new TensorMeta(tensor.dtype.ToTensorDType(), [.. dims!.Select(ParseDim)]);
        }
        return new ModelGraph
        {
            Name = Name,
            Source = new SourceInfo("pt2", $"{Name}.pt2", "", null, null),
            Inputs = [.. _inputs.Where(i => !i.Weight).Select(i => new GraphValue(i.Name, metas[i.Name]))],
            Outputs = [.. _outputs.Select(o => new GraphValue(o, metas.GetValueOrDefault(o) ?? new TensorMeta(TensorDType.I64, [])))],
            Nodes = [.. _nodes.Select(n => n.Node)],
            Weights = [.. _inputs.Where(i => i.Weight).Select(i => new Weight(i.Name, i.Name, WeightKind.Parameter, metas[i.Name], () => Data(i.Value).Bytes))],
            Values = metas,
            Symbols = new Dictionary<string, SymbolRange>(),
            Relations = [],
            SymIntValues = values.Where(kv => kv.Value is long).ToDictionary(kv => kv.Key, kv => kv.Value.ToString()!, StringComparer.Ordinal),
        };
    }

    private static Dim ParseDim(string d) => long.TryParse(d, out var v) ? Dim.Of(v) : Dim.Symbolic(d);

    private static TensorData Data(Tensor t)
    {
        using var c = t.contiguous();
        return new TensorData(c.dtype.ToTensorDType(), c.shape, c.bytes.ToArray());
    }

    public override string ToString() => Name;
}
