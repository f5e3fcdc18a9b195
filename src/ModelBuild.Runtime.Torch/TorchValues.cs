using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>Moves run values into TorchSharp: a tensor of this backend as it is (moved to the device if needed), any other value through host memory.</summary>
internal static class TorchValues
{
    /// <summary>A tensor the caller disposes: an alias or a copy, never the value's own tensor.</summary>
    public static Tensor ToTensor(RunValue value, Device device)
    {
        if (value is TorchValue torchValue)
        {
            var t = torchValue.Tensor;
            return t.device == device ? t.alias() : t.to(device);
        }
        var host = value.ToHost();
        try
        {
            var cpu = TorchTensorConversion.ToTensor(host.DType, [.. host.Shape], host.Bytes.Span);
            if (device.type == TorchSharp.DeviceType.CPU)
            {
                return cpu;
            }
            using (cpu)
            {
                return cpu.to(device);
            }
        }
        finally
        {
            if (!ReferenceEquals(host, value))
            {
                host.Dispose();
            }
        }
    }

    /// <summary>A symbolic value passed between blocks as a 0-d tensor: a sym-int as <see cref="long"/>, a sym-float as <see cref="double"/>, a sym-bool as <see cref="bool"/>.</summary>
    public static object ToSymbolic(RunValue value)
    {
        using var t = ToTensor(value, CPU);
        return t.dtype switch
        {
            ScalarType.Bool => t.item<bool>(),
            ScalarType.Float64 or ScalarType.Float32 => (object)t.to_type(ScalarType.Float64).item<double>(),
            _ => (object)t.to_type(ScalarType.Int64).item<long>(),
        };
    }

    /// <summary>The TorchSharp device of a model device name ("cpu", "cuda", "cuda:1").</summary>
    public static Device ParseDevice(string device) => new(device);
}
