namespace ModelBuild.Engine.Safetensors;

/// <summary>Element types, named as safetensors names them.</summary>
public enum TensorDType
{
    /// <summary>64-bit float.</summary>
    F64,
    /// <summary>32-bit float.</summary>
    F32,
    /// <summary>16-bit IEEE float.</summary>
    F16,
    /// <summary>16-bit brain float.</summary>
    BF16,
    /// <summary>64-bit signed integer (token ids, indices).</summary>
    I64,
    /// <summary>32-bit signed integer.</summary>
    I32,
    /// <summary>16-bit signed integer.</summary>
    I16,
    /// <summary>8-bit signed integer.</summary>
    I8,
    /// <summary>8-bit unsigned integer (also raw bytes, such as a TorchScript module inside an engine).</summary>
    U8,
    /// <summary>Boolean, one byte per element.</summary>
    BOOL,
}

/// <summary>Sizes and names of <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this TensorDType t) => t switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        _ => 1,
    };

    /// <summary>The dtype safetensors names <paramref name="name"/> (<c>F32</c>, <c>BOOL</c>); case-sensitive, as the format is.</summary>
    public static bool TryParse(string name, out TensorDType dtype) =>
        Enum.TryParse(name, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);
}
