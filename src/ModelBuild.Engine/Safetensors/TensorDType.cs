namespace ModelBuild.Engine.Safetensors;

/// <summary>Element types, named as safetensors names them.</summary>
public enum TensorDType
{
    F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL,
}

public static class TensorDTypes
{
    public static int ElementSize(this TensorDType t) => t switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        _ => 1,
    };

    public static bool TryParse(string name, out TensorDType dtype) =>
        Enum.TryParse(name, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);
}
