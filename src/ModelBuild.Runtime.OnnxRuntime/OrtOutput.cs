using System.Buffers;
using System.Runtime.InteropServices;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// A tensor ONNX Runtime made in a run, handed out as a <see cref="HostTensor"/> over ONNX Runtime's own buffer (no
/// copy). The value is released when that tensor is disposed or, failing that, when it is collected.
/// </summary>
internal sealed class OrtOutput : SafeHandle
{
    private OrtOutput(nint value)
        : base(0, ownsHandle: true) => SetHandle(value);

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of <paramref name="value"/> and returns the tensor over its bytes.</summary>
    public static unsafe HostTensor Wrap(nint value)
    {
        var owner = new OrtOutput(value);
        try
        {
            var (elementType, shape, data) = OrtApi.Describe(value);
            var dtype = OnnxBlockRunner.DType(elementType);
            long count = 1;
            foreach (var dim in shape)
            {
                count = checked(count * dim);
            }
            var length = checked((int)(count * dtype.ElementSize()));
            return HostTensor.Over(dtype, shape, new NativeBytes((byte*)data, length).Memory, owner);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseValue(handle);
        return true;
    }

    /// <summary>A native buffer that does not move while its value lives: a pin is a pointer.</summary>
    private sealed unsafe class NativeBytes(byte* data, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(data, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(data + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
