using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>The TorchSharp face of <see cref="CompiledModel"/>: tensors in, tensors out, on the model's device.</summary>
public static class TorchModelExtensions
{
    /// <summary>
    /// Checks the inputs against the compiled ranges, runs the model and returns its outputs as tensors on the model's
    /// device (a block that ran elsewhere has its outputs copied there). Inputs on another device are copied to the
    /// model's. The caller owns the outputs; they join the caller's dispose scope, if one is open.
    /// </summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="inputs">The model's inputs in export order.</param>
    public static Tensor[] Run(this CompiledModel model, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new RunValue[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            values[i] = new TorchValue(inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input {i} is null."));
        }
        var device = model.TorchDevice();
        var outputs = model.RunValues(values);
        var results = new Tensor[outputs.Length];
        for (var o = 0; o < outputs.Length; o++)
        {
            using var output = outputs[o];
            results[o] = TorchValues.ToTensor(output, device);
        }
        return results;
    }

    /// <summary>The model's device as TorchSharp names it.</summary>
    /// <param name="model">The loaded model.</param>
    public static Device TorchDevice(this CompiledModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return TorchValues.ParseDevice(model.Device);
    }

    /// <summary>The model device name ("cpu", "cuda:1") of a TorchSharp device, for <see cref="CompiledModel.Load(string, string?)"/>.</summary>
    /// <param name="device">A TorchSharp device.</param>
    public static string ToModelDevice(this Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var type = device.type == TorchSharp.DeviceType.CUDA ? "cuda" : device.type.ToString().ToLowerInvariant();
        return device.index >= 0 && device.type == TorchSharp.DeviceType.CUDA ? $"{type}:{device.index}" : type;
    }
}
