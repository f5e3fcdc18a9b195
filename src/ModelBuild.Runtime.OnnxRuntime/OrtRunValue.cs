using System.Buffers;
using ModelBuild.Engine.Safetensors;
using Microsoft.ML.OnnxRuntime;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>A tensor ONNX Runtime made, kept in its memory; read in place as host memory.</summary>
internal sealed class OrtRunValue : RunValue
{
    private readonly OrtValue _value;
    private readonly long[] _shape;
    private readonly unsafe byte* _data;
    private readonly int _length;
    private int _shares;

    public unsafe OrtRunValue(OrtValue value)
    {
        _value = value;
        var info = value.GetTensorTypeAndShape();
        DType = OnnxBlockRunner.DType(info.ElementDataType);
        _shape = info.Shape;
        // Where the data lives, asked once: every ask of ONNX Runtime for a tensor's bytes queries its type and shape again.
        var bytes = value.GetTensorMutableRawData();
        _data = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(bytes));
        _length = bytes.Length;
    }

    public override TensorDType DType { get; }

    public override IReadOnlyList<long> Shape => _shape;

    /// <summary>A view of ONNX Runtime's memory; it keeps the value alive until both are disposed.</summary>
    public override unsafe HostTensor ToHost()
    {
        Interlocked.Increment(ref _shares);
        return HostTensor.Over(DType, _shape, new OrtMemory(_data, _length).Memory, new Release(this));
    }

    public override RunValue Share() => ToHost();

    public override void Dispose() => Release.Drop(this);

    /// <summary>The OrtValue goes when its owner and every view of it are disposed.</summary>
    private sealed class Release(OrtRunValue owner) : IDisposable
    {
        private int _done;

        public static void Drop(OrtRunValue value)
        {
            if (Interlocked.Decrement(ref value._shares) < 0)
            {
                value._value.Dispose();
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Drop(owner);
            }
        }
    }

    /// <summary>ONNX Runtime's buffer of a value, which does not move while the value lives: a pin is a pointer.</summary>
    private sealed unsafe class OrtMemory(byte* data, int length) : MemoryManager<byte>
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
