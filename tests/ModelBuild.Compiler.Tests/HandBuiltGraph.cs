using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>Small graphs written by hand for the pass tests: inputs, weights from tensors, nodes by target and arguments.</summary>
internal sealed class HandBuiltGraph
{
    private readonly List<GraphValue> _inputs = [];
    private readonly List<Weight> _weights = [];
    private readonly List<GraphNode> _nodes = [];
    private readonly Dictionary<string, TensorMeta> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SymbolRange> _symbols = new(StringComparer.Ordinal);
    private readonly List<RelationRange> _relations = [];

    public HandBuiltGraph Input(string name, TensorDType dtype, params string[] dims)
    {
        var meta = new TensorMeta(dtype, [.. dims.Select(d => long.TryParse(d, out var v) ? Dim.Of(v) : Dim.Symbolic(d))]);
        _inputs.Add(new GraphValue(name, meta));
        _values[name] = meta;
        return this;
    }

    /// <summary>The dtype and dims of a value a node writes.</summary>
    public HandBuiltGraph Meta(string name, TensorDType dtype, params string[] dims)
    {
        _values[name] = new TensorMeta(dtype, [.. dims.Select(d => long.TryParse(d, out var v) ? Dim.Of(v) : Dim.Symbolic(d))]);
        return this;
    }

    public HandBuiltGraph Symbol(string name, long min, long? max)
    {
        _symbols[name] = new SymbolRange(min, max);
        return this;
    }

    public HandBuiltGraph Relation(string expr, long min, long? max)
    {
        _relations.Add(new RelationRange(expr, min, max));
        return this;
    }

    public HandBuiltGraph Weight(string name, Tensor value)
    {
        var st = value.ToSafetensors(name);
        var bytes = st.Bytes;
        var meta = new TensorMeta(st.DType, [.. st.Shape.Select(Dim.Of)]);
        _weights.Add(new Weight(name, name, WeightKind.Parameter, meta, () => bytes));
        _values[name] = meta;
        return this;
    }

    public HandBuiltGraph Node(string target, string output, params (string Name, Argument Value)[] inputs) =>
        Node(target, [new TensorArg(output)], inputs);

    public HandBuiltGraph Node(string target, Argument[] outputs, params (string Name, Argument Value)[] inputs)
    {
        _nodes.Add(new GraphNode(target, [.. inputs.Select(i => new NamedArgument(i.Name, i.Value))], outputs) { Origin = $"model.py:{_nodes.Count + 1}" });
        return this;
    }

    public ModelGraph Build(params string[] outputs) => new()
    {
        Name = "hand_built",
        Source = new SourceInfo("pt2", "hand_built.pt2", "", null, null),
        Inputs = _inputs,
        Outputs = [.. outputs.Select(o => new GraphValue(o, _values.GetValueOrDefault(o) ?? new TensorMeta(TensorDType.F32, [])))],
        Nodes = _nodes,
        Weights = _weights,
        Values = _values,
        Symbols = _symbols,
        Relations = _relations,
    };

    public static TensorArg T(string name) => new(name);
}
