using ModelBuild.Engine.Safetensors;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>A value held as a TorchSharp tensor, on whatever device it lives; owns the tensor.</summary>
public sealed class TorchValue(Tensor tensor) : RunValue
{
    /// <summary>The tensor itself (disposed with this value).</summary>
    public Tensor Tensor { get; } = tensor;

    /// <inheritdoc/>
    public override TensorDType DType => Tensor.dtype.ToTensorDType();

    /// <inheritdoc/>
    public override IReadOnlyList<long> Shape => Tensor.shape;

    /// <summary>A host view over the tensor's memory when it is on the CPU and contiguous, else over a contiguous CPU copy.</summary>
    public override HostTensor ToHost()
    {
        var cpu = Tensor.device_type == TorchSharp.DeviceType.CPU && Tensor.is_contiguous() ? Tensor.alias() : Tensor.cpu().contiguous();
        return HostTensor.Over(DType, cpu.shape, new NativeTensorMemory(cpu).Memory, cpu);
    }

    /// <inheritdoc/>
    public override RunValue Share() => new TorchValue(Tensor.alias());

    /// <inheritdoc/>
    public override void CopyFrom(RunValue source)
    {
        using var values = TorchValues.ToTensor(source, Tensor.device);
        using (no_grad())
        {
            Tensor.copy_(values);
        }
    }

    /// <inheritdoc/>
    public override void Dispose() => Tensor.Dispose();
}

/// <summary>The bytes of a CPU contiguous tensor as Memory, valid while the tensor lives.</summary>
internal sealed unsafe class NativeTensorMemory(Tensor cpu) : System.Buffers.MemoryManager<byte>
{
    public override Span<byte> GetSpan() => cpu.bytes;

    // Native memory does not move: a pin is a pointer.
    public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) =>
        new((byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(cpu.bytes)) + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
