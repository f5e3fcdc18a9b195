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

    /// <summary>A sym-int passed between blocks as a 0-d integer value.</summary>
    public static long ToInt64(RunValue value) => value switch
    {
        TorchValue t => t.Tensor.item<long>(),
        _ => value.ToHost().ToInt64(),
    };

    /// <summary>The TorchSharp device of a model device name ("cpu", "cuda", "cuda:1").</summary>
    public static Device ParseDevice(string device) => new(device);
}
