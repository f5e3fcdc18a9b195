using System.Globalization;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// Deterministic random inputs for a validation point: floats from a seeded normal distribution; integers uniform
/// in the valid index range of the embedding they index (its weight's first dim), else 0..1; bools 0..1.
/// </summary>
public static class CaseInputs
{
    public static long[] Shape(ManifestTensor input, IReadOnlyDictionary<string, long> symbols) =>
        [.. input.Dims.Select(d => long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : SymExpr.Parse(d).Evaluate(symbols))];

    /// <summary>New CPU tensors, one per input; the caller owns them.</summary>
    public static Tensor[] Generate(IReadOnlyList<ManifestTensor> inputs, IReadOnlyDictionary<string, long> symbols, ModelGraph? graph, long seed)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)seed);
        return [.. inputs.Select(input =>
        {
            var shape = Shape(input, symbols);
            TensorDTypes.TryParse(input.DType, out var dtype);
            return dtype switch
            {
                TensorDType.F32 or TensorDType.F64 or TensorDType.F16 or TensorDType.BF16 => randn(shape, dtype.ToScalarType(), generator: generator),
                TensorDType.BOOL => randint(0, 2, shape, ScalarType.Int64, generator: generator).to(ScalarType.Bool),
                _ => randint(0, IndexBound(input.Name, graph), shape, dtype.ToScalarType(), generator: generator),
            };
        })];
    }

    /// <summary>The size of the table an integer input indexes (embedding weight rows), or 2.</summary>
    private static long IndexBound(string input, ModelGraph? graph)
    {
        if (graph is null)
        {
            return 2;
        }
        var weights = graph.Weights.ToDictionary(w => w.ValueName, StringComparer.Ordinal);
        foreach (var node in graph.Nodes.Where(n => n.Target.StartsWith("torch.ops.aten.embedding", StringComparison.Ordinal)))
        {
            var indices = node.Inputs.FirstOrDefault(a => a.Name == "indices")?.Value as TensorArg;
            var weight = node.Inputs.FirstOrDefault(a => a.Name == "weight")?.Value as TensorArg;
            if (indices?.Name == input && weight is not null && weights.TryGetValue(weight.Name, out var w) && w.Meta.Sizes[0].Value is { } rows)
            {
                return rows;
            }
        }
        return 2;
    }
}
