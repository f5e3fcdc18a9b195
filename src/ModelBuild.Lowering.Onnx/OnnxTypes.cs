using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>ModelBuild's dtypes as ONNX element types (the codes of onnx.proto's TensorProto.DataType).</summary>
internal static class OnnxTypes
{
    public static int Of(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => 1,
        TensorDType.U8 => 2,
        TensorDType.I8 => 3,
        TensorDType.I16 => 5,
        TensorDType.I32 => 6,
        TensorDType.I64 => 7,
        TensorDType.BOOL => 9,
        TensorDType.F16 => 10,
        TensorDType.F64 => 11,
        TensorDType.BF16 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    public static bool IsFloat(TensorDType dtype) => dtype is TensorDType.F32 or TensorDType.F64 or TensorDType.F16 or TensorDType.BF16;

    /// <summary>The bytes of <paramref name="value"/> as one element of <paramref name="dtype"/> (an integer dtype truncates it).</summary>
    public static byte[] Element(double value, TensorDType dtype) => IsFloat(dtype) || dtype == TensorDType.BOOL ? FloatElement(value, dtype) : Element(checked((long)value), dtype);

    /// <summary>The bytes of <paramref name="value"/> as one element of <paramref name="dtype"/>, exact for integer dtypes.</summary>
    public static byte[] Element(long value, TensorDType dtype) => dtype switch
    {
        TensorDType.I64 => BitConverter.GetBytes(value),
        TensorDType.I32 => BitConverter.GetBytes(checked((int)value)),
        TensorDType.I16 => BitConverter.GetBytes(checked((short)value)),
        TensorDType.I8 => [(byte)checked((sbyte)value)],
        TensorDType.U8 => [checked((byte)value)],
        _ => FloatElement(value, dtype),
    };

    private static byte[] FloatElement(double value, TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => BitConverter.GetBytes((float)value),
        TensorDType.F64 => BitConverter.GetBytes(value),
        TensorDType.F16 => BitConverter.GetBytes((Half)value),
        TensorDType.BF16 => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits((float)value) >> 16)),
        TensorDType.BOOL => [value != 0 ? (byte)1 : (byte)0],
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };
}
