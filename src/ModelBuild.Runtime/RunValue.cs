using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime;

/// <summary>
/// A value flowing between the blocks of a plan: a tensor in whatever form the backend that made it keeps it (host
/// memory, a TorchSharp tensor on a device, an ONNX Runtime value). A backend reads another backend's value through
/// <see cref="ToHost"/>; values of its own kind it uses as they are. Whoever receives a value owns it and disposes it.
/// </summary>
public abstract class RunValue : IDisposable
{
    /// <summary>The element type.</summary>
    public abstract TensorDType DType { get; }

    /// <summary>The sizes; empty for a 0-d tensor (a sym-int crossing between blocks).</summary>
    public abstract IReadOnlyList<long> Shape { get; }

    /// <summary>The value in host memory, row-major: itself when it is a <see cref="HostTensor"/>, else a view or a copy that the caller disposes.</summary>
    public abstract HostTensor ToHost();

    /// <summary>A new owner of the same data (an alias), for a value handed out twice (a model input that is also an output).</summary>
    public abstract RunValue Share();

    /// <summary>
    /// Writes <paramref name="source"/>'s elements into this value's own memory: how a model's in-place writes to an
    /// input reach the caller's tensor. Values an app passes as inputs (<see cref="HostTensor"/>, the backends' tensor
    /// values) support it.
    /// </summary>
    public virtual void CopyFrom(RunValue source) =>
        throw new NotSupportedException($"a {GetType().Name} cannot be written to; pass a HostTensor or a backend's tensor as the input.");

    /// <summary>Releases what the value holds (native memory, device memory).</summary>
    public abstract void Dispose();
}
