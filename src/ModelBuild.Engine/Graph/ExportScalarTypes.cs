using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Engine.Graph;

/// <summary>The ScalarType codes of the torch.export schema (torch/_export/serde/schema.py), mapped to dtypes.</summary>
public static class ExportScalarTypes
{
    /// <summary>The dtype of an export schema ScalarType code; false for codes ModelBuild does not support (complex, quantized).</summary>
    public static bool TryToDType(int code, out TensorDType dtype)
    {
        (bool ok, dtype) = code switch
        {
            1 => (true, TensorDType.U8),
            2 => (true, TensorDType.I8),
            3 => (true, TensorDType.I16),
            4 => (true, TensorDType.I32),
            5 => (true, TensorDType.I64),
            6 => (true, TensorDType.F16),
            7 => (true, TensorDType.F32),
            8 => (true, TensorDType.F64),
            12 => (true, TensorDType.BOOL),
            13 => (true, TensorDType.BF16),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>The export schema ScalarType code of <paramref name="dtype"/>.</summary>
    public static int ToCode(TensorDType dtype) => dtype switch
    {
        TensorDType.U8 => 1,
        TensorDType.I8 => 2,
        TensorDType.I16 => 3,
        TensorDType.I32 => 4,
        TensorDType.I64 => 5,
        TensorDType.F16 => 6,
        TensorDType.F32 => 7,
        TensorDType.F64 => 8,
        TensorDType.BOOL => 12,
        TensorDType.BF16 => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
