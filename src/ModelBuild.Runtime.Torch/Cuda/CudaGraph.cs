using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// One <c>at::cuda::CUDAGraph</c>: captures the CUDA work the calling thread issues between <see cref="Capture"/>'s
/// start and end on a side stream (allocations go to the graph's private memory pool), then replays it with one launch
/// on the thread's current stream.
/// </summary>
internal sealed unsafe class CudaGraph : IDisposable
{
    private readonly CudaGraphNative _native;
    private nint _self;
    private bool _abandoned;

    public CudaGraph(CudaGraphNative native)
    {
        _native = native;
        _self = (nint)NativeMemory.AlignedAlloc(CudaGraphNative.ObjectBytes, 64);
        NativeMemory.Clear((void*)_self, CudaGraphNative.ObjectBytes);
        native.Construct(_self, 0); // keep_graph = false: the executable graph is all that is kept
    }

    /// <summary>A stream from PyTorch's pool of the device (capture must not happen on the default stream), or 0.</summary>
    public static nint SideStream(CudaGraphNative native, int deviceIndex)
    {
        nint stream;
        return native.StreamFromPool(0, deviceIndex, &stream) == 0 ? stream : 0;
    }

    /// <summary>Runs <paramref name="work"/> with <paramref name="stream"/> as the thread's current stream, then the default stream again.</summary>
    public static void OnStream(CudaGraphNative native, nint stream, int deviceIndex, Action work)
    {
        if (native.SetCurrentStream(stream, deviceIndex) != 0)
        {
            throw new InvalidOperationException("the side stream could not be made current.");
        }
        try
        {
            work();
        }
        finally
        {
            native.SetCurrentStream(0, deviceIndex);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> under capture on <paramref name="stream"/> (a side stream of <paramref name="deviceIndex"/>),
    /// then makes the default stream current again. When the work throws or leaves the capture invalid (an operation
    /// that synchronizes with the host), the capture is ended through the CUDA runtime and this graph cannot be replayed.
    /// </summary>
    /// <returns>null on success, else why the capture failed.</returns>
    public string? Capture(nint stream, int deviceIndex, Action work)
    {
        if (stream == 0 || _native.SetCurrentStream(stream, deviceIndex) != 0)
        {
            _abandoned = true;
            return "no side stream could be made current for the capture";
        }
        try
        {
            _native.CaptureBegin(_self, 0, 0, CudaGraphNative.CaptureModeThreadLocal); // pool {0, 0}: a new private pool
            string? failure = null;
            try
            {
                work();
            }
            catch (Exception e)
            {
                // Whatever failed, the stream must leave capture mode before anything else runs on this thread.
                failure = $"{e.GetType().Name}: {FirstLine(e.Message)}";
            }
            int status;
            if (failure is null && _native.StreamIsCapturing(stream, &status) == 0 && status == CudaGraphNative.CaptureStatusActive)
            {
                _native.CaptureEnd(_self);
                return null;
            }
            nint graph;
            if (_native.StreamEndCapture(stream, &graph) == 0 && graph != 0)
            {
                _native.GraphDestroy(graph);
            }
            // The C++ object still believes it is capturing; its destructor would act on that, so it is never called.
            _abandoned = true;
            return failure ?? "an operation of the plan is not allowed while a stream is captured (it synchronizes with the host)";
        }
        finally
        {
            _native.SetCurrentStream(0, deviceIndex);
        }
    }

    /// <summary>Launches the captured work on the calling thread's current stream.</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(_self == 0, this);
        if (_abandoned)
        {
            throw new InvalidOperationException("the graph's capture failed; it cannot be replayed.");
        }
        _native.Replay(_self);
    }

    public void Dispose()
    {
        if (_self == 0)
        {
            return;
        }
        if (!_abandoned)
        {
            _native.Destruct(_self); // releases the private memory pool
            NativeMemory.AlignedFree((void*)_self);
        }
        _self = 0;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
