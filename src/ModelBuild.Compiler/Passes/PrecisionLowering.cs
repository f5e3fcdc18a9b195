using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Lowers an fp32 graph to fp16 or bf16 with fp32 islands, as PyTorch's autocast does: the operators of
/// <see cref="Fp32Operators"/> (normalizations, softmax, accumulating reductions, exp/log/pow, losses) run in fp32, every
/// other one in the target dtype. Each float value is made in one dtype, fp32 by an island and the target dtype by any
/// other node; a reader that needs the other dtype reads a cast, inserted before the first such reader and shared by the
/// rest, and always a cast of the value itself, never of another cast. F32 weights are stored in the dtype their readers
/// need (under a second name as well when islands and other nodes both read one), and every F32 dtype argument of the
/// other nodes (factories such as <c>full</c>/<c>arange</c>/<c>scalar_tensor</c>, and casts) becomes the target dtype.
/// Inputs and outputs keep F32 at the engine's boundary (the manifest says so): the graph itself casts F32 inputs where
/// a reduced reader needs them and its float outputs back, so every backend runs the same plan. A subgraph of a
/// higher-order operator runs wholly in the target dtype, as the operator's operands come to it: its values carry no
/// metadata to tell floats from integers.
/// </summary>
public static class PrecisionLowering
{
    public static ModelGraph Run(ModelGraph graph, TensorDType precision) =>
        precision == TensorDType.F32 ? graph : new MixedPrecision(graph, precision).Run();

    private sealed class MixedPrecision(ModelGraph graph, TensorDType precision)
    {
        private readonly ScalarTypeArg _f32 = new(ExportScalarTypes.ToCode(TensorDType.F32));
        private readonly ScalarTypeArg _target = new(ExportScalarTypes.ToCode(precision));

        /// <summary>Every value's metadata: an F32 value of the source graph is made in the target dtype unless an input or an island makes it.</summary>
        private readonly Dictionary<string, TensorMeta> _values = graph.Values.ToDictionary(kv => kv.Key,
            kv => kv.Value.DType == TensorDType.F32 ? kv.Value with { DType = precision } : kv.Value, StringComparer.Ordinal);

        /// <summary>The cast of a value to the dtype it is not made in, once one is needed.</summary>
        private readonly Dictionary<(string Value, TensorDType DType), string> _casts = [];

        public ModelGraph Run()
        {
            foreach (var input in graph.Inputs)
            {
                _values[input.Name] = input.Meta;
            }
            var weights = Weights();
            var nodes = new List<GraphNode>();
            foreach (var node in graph.Nodes)
            {
                nodes.Add(Lower(node, nodes));
            }
            var outputs = graph.Outputs.Select(o => o with { Name = Read(o.Name, TensorDType.F32, nodes) }).ToList();
            return graph.With(nodes: nodes, weights: weights, values: _values, outputs: outputs);
        }

        private GraphNode Lower(GraphNode node, List<GraphNode> nodes)
        {
            var island = Fp32Operators.RunsInFp32(node.Target);
            var dtype = island ? TensorDType.F32 : precision;
            // A cast reads its input in whichever dtype it is made in: casting a cast would round twice.
            var reads = Converts(node) ? [] : node.Inputs.SelectMany(a => GraphValueNames.Tensors(a.Value)).Distinct(StringComparer.Ordinal);
            var renames = reads.ToDictionary(name => name, name => Read(name, dtype, nodes), StringComparer.Ordinal);
            foreach (var output in node.Writes().Where(IsF32))
            {
                _values[output] = _values[output] with { DType = dtype };
            }
            var lowered = node with { Inputs = [.. node.Inputs.Select(a => a with { Value = GraphValueNames.Rename(a.Value, renames) })] };
            return island ? lowered : ReducedDTypeArguments(lowered);
        }

        /// <summary><paramref name="name"/> in <paramref name="dtype"/> if it is an F32 value of the source graph: itself, or its cast (made before the first reader that needs it).</summary>
        private string Read(string name, TensorDType dtype, List<GraphNode> nodes)
        {
            if (!IsF32(name) || _values[name].DType == dtype)
            {
                return name;
            }
            if (!_casts.TryGetValue((name, dtype), out var cast))
            {
                cast = Unique($"{name}_{Suffix(dtype)}");
                _values[cast] = _values[name] with { DType = dtype };
                nodes.Add(Cast(name, cast, new ScalarTypeArg(ExportScalarTypes.ToCode(dtype))));
                _casts[(name, dtype)] = cast;
            }
            return cast;
        }

        /// <summary>
        /// The weights, each F32 one in the dtype its readers need: the target dtype unless only islands (or the outputs)
        /// read it; both when islands and other nodes read it, the cast under a new name.
        /// </summary>
        private List<Weight> Weights()
        {
            var readIn = graph.Weights.Where(w => w.Meta.DType == TensorDType.F32).ToDictionary(w => w.ValueName, _ => new HashSet<TensorDType>(), StringComparer.Ordinal);
            foreach (var node in graph.Nodes.Where(n => !Converts(n)))
            {
                var dtype = Fp32Operators.RunsInFp32(node.Target) ? TensorDType.F32 : precision;
                foreach (var name in node.Inputs.SelectMany(a => GraphValueNames.Tensors(a.Value)))
                {
                    readIn.GetValueOrDefault(name)?.Add(dtype);
                }
            }
            foreach (var output in graph.Outputs)
            {
                readIn.GetValueOrDefault(output.Name)?.Add(TensorDType.F32);
            }
            var weights = new List<Weight>();
            foreach (var weight in graph.Weights)
            {
                if (!readIn.TryGetValue(weight.ValueName, out var dtypes) || !dtypes.Contains(precision) && dtypes.Count > 0)
                {
                    _values[weight.ValueName] = weight.Meta;
                    weights.Add(weight);
                }
                else if (!dtypes.Contains(TensorDType.F32))
                {
                    weights.Add(Cast(weight, weight.ValueName, precision));
                }
                else
                {
                    var cast = Unique($"{weight.ValueName}_{Suffix(precision)}");
                    _values[weight.ValueName] = weight.Meta;
                    _values[cast] = weight.Meta with { DType = precision };
                    _casts[(weight.ValueName, precision)] = cast;
                    weights.Add(weight);
                    weights.Add(Cast(weight, cast, precision));
                }
            }
            return weights;
        }

        private bool IsF32(string name) => graph.Values.TryGetValue(name, out var meta) && meta.DType == TensorDType.F32;

        /// <summary>The node with every F32 dtype argument, its subgraphs' included, made the target dtype.</summary>
        private GraphNode ReducedDTypeArguments(GraphNode node)
        {
            node = node.WithSubgraphs(s => s with { Nodes = [.. s.Nodes.Select(ReducedDTypeArguments)] });
            return node.Inputs.Any(a => a.Value == _f32)
                ? node with { Inputs = [.. node.Inputs.Select(a => a.Value == _f32 ? a with { Value = _target } : a)] }
                : node;
        }

        private string Unique(string name)
        {
            var unique = name;
            for (var n = 2; _values.ContainsKey(unique); n++)
            {
                unique = $"{name}_{n}";
            }
            return unique;
        }
    }

    /// <summary>Whether the node casts its input to the dtype it names (<c>x.to(torch.float16)</c>).</summary>
    private static bool Converts(GraphNode node) =>
        node.Target is "torch.ops.aten._to_copy.default" or "torch.ops.aten.to.dtype" or "torch.ops.aten.to.dtype_layout"
        && node.Inputs.Any(a => a.Name == "dtype" && a.Value is ScalarTypeArg);

    private static string Suffix(TensorDType dtype) => dtype.ToString().ToLowerInvariant();

    private static GraphNode Cast(string from, string to, ScalarTypeArg dtype) =>
        new("torch.ops.aten._to_copy.default", [new NamedArgument("self", new TensorArg(from)), new NamedArgument("dtype", dtype, KwargOnly: true)], [new TensorArg(to)]);

    private static Weight Cast(Weight weight, string valueName, TensorDType precision)
    {
        using var t = weight.ToTensor();
        using var cast = t.to(precision.ToScalarType());
        var bytes = cast.ToSafetensors(valueName).Bytes;
        return weight with { ValueName = valueName, Meta = weight.Meta with { DType = precision }, Read = () => bytes };
    }
}
