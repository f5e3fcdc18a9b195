using System.Buffers;
using System.IO.MemoryMappedFiles;
using ModelBuild.Diagnostics;

namespace ModelBuild.Runtime;

/// <summary>
/// An engine's bytes where they already are, for the length of one load: an engine file mapped read-only (the page
/// cache's pages), or an embedded resource in the assembly's image (an <see cref="UnmanagedMemoryStream"/>). Reading megabytes into a new array touches every
/// page of it for the first time, and on a VM each such page fault costs tens of microseconds (measured on the 2-core
/// dev VM: 19 us a page, 23 ms to read and hash a 2.5 MB engine, 2.5 ms mapped). Backends copy what runs need while
/// they prepare (<see cref="Backends.BlockContext.Engine"/>), so the memory is released when the load ends; reading it
/// after that throws <see cref="ObjectDisposedException"/>. The price, as for every mapped file (the app's own
/// assemblies included): a file truncated by another process during those milliseconds ends the process (SIGBUS)
/// instead of failing the payload check; a file replaced by rename, or rewritten after the load, changes nothing.
/// </summary>
internal sealed unsafe class LoadBytes : MemoryManager<byte>
{
    private readonly byte* _pointer;
    private readonly int _length;
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private bool _disposed;

    private LoadBytes(byte* pointer, int length, MemoryMappedFile? file, MemoryMappedViewAccessor? view)
    {
        _pointer = pointer;
        _length = length;
        _file = file;
        _view = view;
    }

    /// <summary>
    /// Below this, an engine is read into an array: mapping and unmapping a file costs about 0.25 ms on the dev VM (the
    /// unmapping's TLB flush), what faulting in some 16 pages of a new array costs there.
    /// </summary>
    public const int MapFrom = 64 * 1024;

    /// <summary>
    /// The engine file at <paramref name="path"/>: mapped, or read into an array when smaller than <see cref="MapFrom"/>
    /// (null then: the bytes are the array); MB4015 naming the file when it cannot be read.
    /// </summary>
    public static ReadOnlyMemory<byte> Open(string path, out LoadBytes? mapped)
    {
        mapped = null;
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            var length = new FileInfo(path).Length;
            if (length < MapFrom)
            {
                return File.ReadAllBytes(path);
            }
            if (length > int.MaxValue)
            {
                throw new IOException($"the file has {length} bytes; an engine has at most {int.MaxValue}.");
            }
            file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            mapped = new LoadBytes(pointer + view.PointerOffset, (int)length, file, view);
            return mapped.Memory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            file?.Dispose();
            throw new ModelBuildException(DiagnosticCodes.SafetensorsFileUnreadable, $"the file cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>The bytes of <paramref name="stream"/> from its position to its end, in place (the stream must outlive them).</summary>
    public static LoadBytes InPlace(UnmanagedMemoryStream stream)
    {
        var length = stream.Length - stream.Position;
        if (length > int.MaxValue)
        {
            throw new ModelBuildException(DiagnosticCodes.SafetensorsFileUnreadable, $"the stream has {length} bytes; an engine has at most {int.MaxValue}.");
        }
        return new LoadBytes(stream.PositionPointer, (int)length, null, null);
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<byte>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    // The memory is not the collector's: nothing to unpin.
    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _file?.Dispose();
    }
}
