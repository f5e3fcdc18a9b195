using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>The dtypes a rule's ONNX operator has ONNX Runtime CPU kernels for.</summary>
internal sealed class TensorDTypeSet(params TensorDType[] dtypes)
{
    /// <summary>float32: what ONNX Runtime's CPU kernels for convolution, normalization, activations and matrix products take.</summary>
    public static readonly TensorDTypeSet Float = new(TensorDType.F32);

    /// <summary>float32, int64, int32: arithmetic, comparisons, reductions.</summary>
    public static readonly TensorDTypeSet Numeric = new(TensorDType.F32, TensorDType.I64, TensorDType.I32);

    public static readonly TensorDTypeSet Integer = new(TensorDType.I64, TensorDType.I32);

    /// <summary>Every dtype ModelBuild carries: operators that move data without computing.</summary>
    public static readonly TensorDTypeSet Any = new(Enum.GetValues<TensorDType>());

    public bool Contains(TensorDType dtype) => Array.IndexOf(dtypes, dtype) >= 0;

    public override string ToString() => string.Join("/", dtypes);
}
