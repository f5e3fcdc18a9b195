using ModelBuild.Engine.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>Moves tensors between safetensors bytes and TorchSharp, one copy each way.</summary>
public static class TorchTensorConversion
{
    /// <summary>TorchSharp's dtype of a safetensors dtype.</summary>
    public static ScalarType ToScalarType(this TensorDType dtype) => dtype switch
    {
        TensorDType.F64 => ScalarType.Float64,
        TensorDType.F32 => ScalarType.Float32,
        TensorDType.F16 => ScalarType.Float16,
        TensorDType.BF16 => ScalarType.BFloat16,
        TensorDType.I64 => ScalarType.Int64,
        TensorDType.I32 => ScalarType.Int32,
        TensorDType.I16 => ScalarType.Int16,
        TensorDType.I8 => ScalarType.Int8,
        TensorDType.U8 => ScalarType.Byte,
        TensorDType.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The safetensors dtype of a TorchSharp dtype.</summary>
    /// <exception cref="NotSupportedException">for dtypes safetensors has no name for (complex, quantized).</exception>
    public static TensorDType ToTensorDType(this ScalarType type) => type switch
    {
        ScalarType.Float64 => TensorDType.F64,
        ScalarType.Float32 => TensorDType.F32,
        ScalarType.Float16 => TensorDType.F16,
        ScalarType.BFloat16 => TensorDType.BF16,
        ScalarType.Int64 => TensorDType.I64,
        ScalarType.Int32 => TensorDType.I32,
        ScalarType.Int16 => TensorDType.I16,
        ScalarType.Int8 => TensorDType.I8,
        ScalarType.Byte => TensorDType.U8,
        ScalarType.Bool => TensorDType.BOOL,
        _ => throw new NotSupportedException($"dtype {type} has no safetensors name"),
    };

    /// <summary>A new CPU tensor holding a copy of the bytes.</summary>
    public static Tensor ToTensor(TensorDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> bytes)
    {
        var t = empty(shape, dtype.ToScalarType());
        bytes.CopyTo(t.bytes);
        return t;
    }

    /// <summary>A new CPU tensor holding a copy of tensor <paramref name="name"/> of <paramref name="file"/> (a cases file's <c>opt.in.0</c>, say).</summary>
    /// <exception cref="ModelBuild.Diagnostics.ModelBuildException">MB4010 when the file has no such tensor.</exception>
    public static Tensor ToTensor(this SafetensorsFile file, string name)
    {
        var e = file.Entry(name);
        return ToTensor(e.DType, e.Shape, file.Data(name).Span);
    }

    /// <summary>The tensor's bytes (moved to CPU and made contiguous first) as a safetensors entry.</summary>
    public static SafetensorsTensor ToSafetensors(this Tensor tensor, string name)
    {
        using var cpu = tensor.cpu().contiguous();
        return new SafetensorsTensor(name, cpu.dtype.ToTensorDType(), cpu.shape, cpu.bytes.ToArray());
    }
}
