using ModelBuild.Engine.Graph;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>Weights to TorchSharp tensors and back, for the passes that compute new weights.</summary>
internal static class WeightTensors
{
    public static long[] StaticShape(this TensorMeta meta) => [.. meta.Sizes.Select(d => d.Value ?? throw new InvalidOperationException($"a weight has the symbolic dim {d}"))];

    /// <summary>A new CPU tensor with the weight's values.</summary>
    public static Tensor ToTensor(this Weight weight) =>
        TorchTensorConversion.ToTensor(weight.Meta.DType, weight.Meta.StaticShape(), weight.Read().Span);

    /// <summary>A constant weight holding a copy of the tensor's values.</summary>
    public static Weight ToWeight(this Tensor tensor, string valueName)
    {
        var st = tensor.ToSafetensors(valueName);
        var bytes = st.Bytes;
        return new Weight(valueName, valueName, WeightKind.Constant, new TensorMeta(st.DType, [.. st.Shape.Select(Dim.Of)]), () => bytes);
    }
}
