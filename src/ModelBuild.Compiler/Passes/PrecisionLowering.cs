using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Lowers an fp32 graph to fp16 or bf16: F32 weights are cast, and every F32 dtype argument (factories such as
/// <c>full</c>/<c>arange</c>/<c>scalar_tensor</c>, and casts) becomes the target dtype. Inputs and outputs keep F32 at
/// the engine's boundary: the runtime casts float inputs on entry and float outputs back (the manifest says so).
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
        var nodes = graph.Nodes.Select(n => n.Inputs.Any(a => a.Value is ScalarTypeArg s && s.Code == f32)
            ? n with { Inputs = [.. n.Inputs.Select(a => a.Value is ScalarTypeArg s && s.Code == f32 ? a with { Value = target } : a)] }
            : n).ToList();
        var weights = graph.Weights.Select(w => w.Meta.DType == TensorDType.F32 ? Cast(w, precision) : w).ToList();
        var values = graph.Values.ToDictionary(kv => kv.Key, kv => kv.Value.DType == TensorDType.F32 ? kv.Value with { DType = precision } : kv.Value);
        return graph.With(nodes: nodes, weights: weights, values: values);
    }

    private static Weight Cast(Weight weight, TensorDType precision)
    {
        using var t = weight.ToTensor();
        using var cast = t.to(precision.ToScalarType());
        var bytes = cast.ToSafetensors(weight.ValueName).Bytes;
        return weight with { Meta = weight.Meta with { DType = precision }, Read = () => bytes };
    }
}
