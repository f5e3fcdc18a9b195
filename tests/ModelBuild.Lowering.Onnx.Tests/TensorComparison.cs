using System.Buffers.Binary;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>Whether two tensors agree: same dtype and shape, and every element within atol + rtol * |expected| (NaN equals NaN).</summary>
internal static class TensorComparison
{
    /// <returns>null when they agree, else what differs.</returns>
    public static string? Difference(TensorData actual, TensorData expected, double atol, double rtol)
    {
        if (actual.DType != expected.DType || !actual.Shape.SequenceEqual(expected.Shape))
        {
            return $"{actual.DType}[{string.Join(", ", actual.Shape)}] where PyTorch gives {expected.DType}[{string.Join(", ", expected.Shape)}]";
        }
        var a = Values(actual);
        var e = Values(expected);
        for (var i = 0; i < a.Length; i++)
        {
            var same = (double.IsNaN(a[i]) && double.IsNaN(e[i])) || a[i] == e[i] || Math.Abs(a[i] - e[i]) <= atol + (rtol * Math.Abs(e[i]));
            if (!same)
            {
                return $"element {i} is {a[i]:G6} where PyTorch gives {e[i]:G6}";
            }
        }
        return null;
    }

    private static double[] Values(TensorData t)
    {
        var size = t.DType.ElementSize();
        var values = new double[t.Bytes.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            var b = t.Bytes.AsSpan(i * size, size);
            values[i] = t.DType switch
            {
                TensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(b),
                TensorDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(b),
                TensorDType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
                TensorDType.BF16 => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                TensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                TensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                TensorDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                TensorDType.I8 => (sbyte)b[0],
                _ => b[0],
            };
        }
        return values;
    }
}
