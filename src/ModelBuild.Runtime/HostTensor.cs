using System.Runtime.InteropServices;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime;

/// <summary>
/// A dense, row-major tensor in host memory: the values an app hands a model and gets back, whatever backend runs it.
/// It owns its bytes (a managed array) unless made over memory that someone else owns (<see cref="Over"/>).
/// </summary>
public sealed class HostTensor : RunValue
{
    private readonly long[] _shape;
    private IDisposable? _owner;

    private HostTensor(TensorDType dtype, long[] shape, Memory<byte> bytes, IDisposable? owner)
    {
        var count = ElementCount(shape);
        if (count * dtype.ElementSize() != bytes.Length)
        {
            throw new ArgumentException($"a {dtype} tensor of shape [{string.Join(", ", shape)}] holds {count * dtype.ElementSize()} bytes, not {bytes.Length}.", nameof(bytes));
        }
        DType = dtype;
        _shape = shape;
        Bytes = bytes;
        _owner = owner;
    }

    /// <inheritdoc/>
    public override TensorDType DType { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<long> Shape => _shape;

    /// <summary>The elements' bytes, little-endian, row-major.</summary>
    public Memory<byte> Bytes { get; }

    /// <summary>The number of elements (1 for a 0-d tensor).</summary>
    public long Count => ElementCount(_shape);

    /// <summary>A tensor holding a copy of <paramref name="data"/>, reshaped to <paramref name="shape"/> (a 0-d tensor when empty).</summary>
    public static HostTensor From<T>(ReadOnlySpan<T> data, params long[] shape) where T : unmanaged =>
        new(DTypeOf<T>(), [.. shape], MemoryMarshal.AsBytes(data).ToArray(), null);

    /// <summary>A tensor over <paramref name="data"/> itself (no copy): writes to either are seen by both.</summary>
    public static HostTensor Wrap<T>(T[] data, params long[] shape) where T : unmanaged =>
        new(DTypeOf<T>(), [.. shape], data.AsBytes(), null);

    /// <summary>A zero-filled tensor.</summary>
    public static HostTensor Zeros(TensorDType dtype, params long[] shape) =>
        new(dtype, [.. shape], new byte[checked(ElementCount(shape) * dtype.ElementSize())], null);

    /// <summary>A tensor over bytes of the given dtype and shape (no copy).</summary>
    public static HostTensor FromBytes(TensorDType dtype, long[] shape, Memory<byte> bytes) => new(dtype, [.. shape], bytes, null);

    /// <summary>A tensor over memory that <paramref name="owner"/> keeps alive until this tensor is disposed.</summary>
    public static HostTensor Over(TensorDType dtype, long[] shape, Memory<byte> bytes, IDisposable owner) => new(dtype, [.. shape], bytes, owner);

    /// <summary>A 0-d int64 tensor: how a sym-int crosses from one block to another.</summary>
    public static HostTensor Scalar(long value) => From<long>([value]);

    /// <summary>The elements as <typeparamref name="T"/>, which must match <see cref="DType"/> in size.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckType<T>();
        return MemoryMarshal.Cast<byte, T>(Bytes.Span);
    }

    /// <summary>A copy of the elements.</summary>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>The single element of a one-element tensor as a long (a sym-int, a count).</summary>
    public long ToInt64() => Count != 1
        ? throw new InvalidOperationException($"a tensor of shape [{string.Join(", ", _shape)}] is not one value.")
        : DType switch
        {
            TensorDType.I64 => AsSpan<long>()[0],
            TensorDType.I32 => AsSpan<int>()[0],
            TensorDType.I16 => AsSpan<short>()[0],
            TensorDType.I8 => AsSpan<sbyte>()[0],
            TensorDType.U8 or TensorDType.BOOL => Bytes.Span[0],
            _ => throw new InvalidOperationException($"a {DType} tensor is not an integer."),
        };

    /// <inheritdoc/>
    public override HostTensor ToHost() => this;

    /// <summary>A new owner of the same elements; memory that someone else owns is released when the last sharer is disposed.</summary>
    public override RunValue Share() => new HostTensor(DType, _shape, Bytes, _owner is null ? null : SharedOwner.Lease(ref _owner));

    /// <inheritdoc/>
    public override void CopyFrom(RunValue source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var host = source.ToHost();
        try
        {
            if (host.DType != DType || !host.Shape.SequenceEqual(_shape))
            {
                throw new ArgumentException($"a {host.DType} [{string.Join(", ", host.Shape)}] value cannot be written into a {DType} [{string.Join(", ", _shape)}] tensor.", nameof(source));
            }
            host.Bytes.Span.CopyTo(Bytes.Span);
        }
        finally
        {
            if (!ReferenceEquals(host, source))
            {
                host.Dispose();
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _owner?.Dispose();
        _owner = null;
    }

    /// <summary>The dtype whose elements are <typeparamref name="T"/>.</summary>
    public static TensorDType DTypeOf<T>() where T : unmanaged => typeof(T) switch
    {
        var t when t == typeof(float) => TensorDType.F32,
        var t when t == typeof(double) => TensorDType.F64,
        var t when t == typeof(Half) => TensorDType.F16,
        var t when t == typeof(long) => TensorDType.I64,
        var t when t == typeof(int) => TensorDType.I32,
        var t when t == typeof(short) => TensorDType.I16,
        var t when t == typeof(sbyte) => TensorDType.I8,
        var t when t == typeof(byte) => TensorDType.U8,
        var t when t == typeof(bool) => TensorDType.BOOL,
        _ => throw new NotSupportedException($"{typeof(T).Name} is not an element type of a model's tensors (bf16 tensors are made with FromBytes)."),
    };

    internal static long ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative dim.", nameof(shape));
            }
            count = checked(count * d);
        }
        return count;
    }

    /// <summary>The owner of memory that several tensors view (<see cref="Share"/>), disposed with the last of their leases.</summary>
    private sealed class SharedOwner
    {
        private readonly IDisposable _owner;
        private int _leases;

        private SharedOwner(IDisposable owner) => _owner = owner;

        /// <summary>A further lease of the memory that <paramref name="slot"/> owns; the first time, the slot's own owner becomes a lease too.</summary>
        public static IDisposable Lease(ref IDisposable? slot)
        {
            if (slot is not Leased own)
            {
                own = new Leased(new SharedOwner(slot!));
                slot = own;
            }
            return new Leased(own.Shared);
        }

        private sealed class Leased : IDisposable
        {
            private int _released;

            public Leased(SharedOwner shared)
            {
                Shared = shared;
                Interlocked.Increment(ref shared._leases);
            }

            public SharedOwner Shared { get; }

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _released, 1) == 0 && Interlocked.Decrement(ref Shared._leases) == 0)
                {
                    Shared._owner.Dispose();
                }
            }
        }
    }

    private void CheckType<T>() where T : unmanaged
    {
        if (Marshal.SizeOf<T>() != DType.ElementSize() && !(typeof(T) == typeof(bool) && DType == TensorDType.BOOL))
        {
            throw new InvalidOperationException($"a {DType} tensor's elements are not {typeof(T).Name}s.");
        }
    }
}

internal static class MemoryBytes
{
    /// <summary>The bytes of a typed array, without a copy.</summary>
    public static Memory<byte> AsBytes<T>(this T[] array) where T : unmanaged => new ArrayBytes<T>(array).Memory;

    private sealed class ArrayBytes<T>(T[] array) : System.Buffers.MemoryManager<byte> where T : unmanaged
    {
        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(array.AsSpan());

        /// <summary>Each pin is its own GC handle, freed when the returned handle is disposed.</summary>
        public override unsafe System.Buffers.MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            return new System.Buffers.MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
