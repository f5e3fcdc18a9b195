using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Lowers an fp32 graph to fp16 or bf16: F32 weights are cast, and every F32 dtype argument (factories such as
/// <c>full</c>/<c>arange</c>/<c>scalar_tensor</c>, and casts) becomes the target dtype. Inputs and outputs keep F32 at
/// the engine's boundary (the manifest says so): the graph itself casts F32 inputs on entry and its float outputs back,
/// so every backend runs the same plan.
/// </summary>
public static class PrecisionLowering
{
    public static ModelGraph Run(ModelGraph graph, TensorDType precision)
    {
        if (precision == TensorDType.F32)
        {
            return graph;
        }
        var f32 = ExportScalarTypes.ToCode(TensorDType.F32);
        var target = new ScalarTypeArg(ExportScalarTypes.ToCode(precision));
        var nodes = Lowered(graph.Nodes, f32, target);
        var weights = graph.Weights.Select(w => w.Meta.DType == TensorDType.F32 ? Cast(w, precision) : w).ToList();
        var values = graph.Values.ToDictionary(kv => kv.Key, kv => kv.Value.DType == TensorDType.F32 ? kv.Value with { DType = precision } : kv.Value);

        // Entry: every read of an F32 input reads its cast instead.
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        var entry = new List<GraphNode>();
        foreach (var input in graph.Inputs.Where(i => i.Meta.DType == TensorDType.F32))
        {
            var cast = Unique($"{input.Name}_{precision.ToString().ToLowerInvariant()}", values);
            renames[input.Name] = cast;
            values[input.Name] = input.Meta;
            values[cast] = input.Meta with { DType = precision };
            entry.Add(Cast(input.Name, cast, target));
        }
        nodes = [.. entry, .. nodes.Select(n => n with { Inputs = [.. n.Inputs.Select(a => a with { Value = GraphValueNames.Rename(a.Value, renames) })] })];

        // Exit: every output that was F32 is cast back under a new name.
        var outputs = new List<GraphValue>();
        foreach (var output in graph.Outputs)
        {
            var source = renames.TryGetValue(output.Name, out var renamed) ? renamed : output.Name;
            if (output.Meta.DType != TensorDType.F32)
            {
                outputs.Add(output with { Name = source });
                continue;
            }
            var back = Unique($"{output.Name}_f32", values);
            values[back] = output.Meta;
            nodes.Add(Cast(source, back, new ScalarTypeArg(f32)));
            outputs.Add(output with { Name = back });
        }
        return graph.With(nodes: nodes, weights: weights, values: values, outputs: outputs);
    }

    /// <summary>The nodes, and those of their subgraphs, with every F32 dtype argument made the target dtype.</summary>
    private static List<GraphNode> Lowered(IReadOnlyList<GraphNode> nodes, int f32, ScalarTypeArg target) => [.. nodes.Select(n =>
    {
        var node = n.WithSubgraphs(s => s with { Nodes = Lowered(s.Nodes, f32, target) });
        return node.Inputs.Any(a => a.Value is ScalarTypeArg s && s.Code == f32)
            ? node with { Inputs = [.. node.Inputs.Select(a => a.Value is ScalarTypeArg s && s.Code == f32 ? a with { Value = target } : a)] }
            : node;
    })];

    private static GraphNode Cast(string from, string to, ScalarTypeArg dtype) =>
        new("torch.ops.aten._to_copy.default", [new NamedArgument("self", new TensorArg(from)), new NamedArgument("dtype", dtype, KwargOnly: true)], [new TensorArg(to)]);

    private static string Unique(string name, IReadOnlyDictionary<string, TensorMeta> values)
    {
        var unique = name;
        for (var n = 2; values.ContainsKey(unique); n++)
        {
            unique = $"{name}_{n}";
        }
        return unique;
    }

    private static Weight Cast(Weight weight, TensorDType precision)
    {
        using var t = weight.ToTensor();
        using var cast = t.to(precision.ToScalarType());
        var bytes = cast.ToSafetensors(weight.ValueName).Bytes;
        return weight with { Meta = weight.Meta with { DType = precision }, Read = () => bytes };
    }
}
