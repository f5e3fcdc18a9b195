using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// The native entry points CUDA graph capture needs, resolved in the libraries libtorch has already loaded:
/// PyTorch's <c>at::cuda::CUDAGraph</c> (exported C++ members of libtorch_cuda.so: capture with a private memory pool,
/// so no block is reused behind the graph's back), the stable C shim's stream functions, and three calls of the CUDA
/// runtime. TorchSharp has no CUDA-graph API. A missing symbol (another libtorch) is a reason, never a crash: the
/// runtime then runs without graphs and says why.
/// <para>
/// C++ members can throw through this boundary only when their preconditions fail, which the callers rule out: capture
/// begins on a non-default stream of the model's device, ends on the same stream only while the capture is still valid
/// (checked with <c>cudaStreamIsCapturing</c>), and an invalidated capture is ended through the C API instead.
/// </para>
/// </summary>
internal sealed unsafe class CudaGraphNative
{
    /// <summary>Bytes allocated for one <c>at::cuda::CUDAGraph</c>: sizeof is 104 in PyTorch 2.11 (measured with g++ against its headers), with room for growth.</summary>
    public const int ObjectBytes = 1024;

    public const int CaptureModeThreadLocal = 1; // cudaStreamCaptureModeThreadLocal: other threads may still allocate
    public const int CaptureStatusActive = 1; // cudaStreamCaptureStatusActive

    private CudaGraphNative()
    {
    }

    public delegate* unmanaged<nint, byte, void> Construct { get; private init; }
    public delegate* unmanaged<nint, void> Destruct { get; private init; }
    public delegate* unmanaged<nint, ulong, ulong, int, void> CaptureBegin { get; private init; }
    public delegate* unmanaged<nint, void> CaptureEnd { get; private init; }
    public delegate* unmanaged<nint, void> Replay { get; private init; }
    public delegate* unmanaged<byte, int, nint*, int> StreamFromPool { get; private init; }
    public delegate* unmanaged<nint, int, int> SetCurrentStream { get; private init; }
    public delegate* unmanaged<nint, nint*, int> StreamEndCapture { get; private init; }
    public delegate* unmanaged<nint, int*, int> StreamIsCapturing { get; private init; }
    public delegate* unmanaged<nint, int> GraphDestroy { get; private init; }

    /// <summary>The entry points, or null with the reason they are not all there.</summary>
    public static CudaGraphNative? TryLoad(out string why)
    {
        var torchCuda = LoadedLibraries.Find("libtorch_cuda.so");
        var cudart = LoadedLibraries.Find("libcudart.so");
        if (torchCuda is null || cudart is null)
        {
            why = $"{(torchCuda is null ? "libtorch_cuda.so" : "libcudart.so")} is not loaded in this process (libtorch without CUDA?)";
            return null;
        }
        var missing = new List<string>();
        nint Get(nint library, string name)
        {
            if (NativeLibrary.TryGetExport(library, name, out var address))
            {
                return address;
            }
            missing.Add(name);
            return 0;
        }
        var native = new CudaGraphNative
        {
            Construct = (delegate* unmanaged<nint, byte, void>)Get(torchCuda.Value, "_ZN2at4cuda9CUDAGraphC1Eb"),
            Destruct = (delegate* unmanaged<nint, void>)Get(torchCuda.Value, "_ZN2at4cuda9CUDAGraphD1Ev"),
            CaptureBegin = (delegate* unmanaged<nint, ulong, ulong, int, void>)Get(torchCuda.Value,
                "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode"),
            CaptureEnd = (delegate* unmanaged<nint, void>)Get(torchCuda.Value, "_ZN2at4cuda9CUDAGraph11capture_endEv"),
            Replay = (delegate* unmanaged<nint, void>)Get(torchCuda.Value, "_ZN2at4cuda9CUDAGraph6replayEv"),
            StreamFromPool = (delegate* unmanaged<byte, int, nint*, int>)Get(torchCuda.Value, "torch_get_cuda_stream_from_pool"),
            SetCurrentStream = (delegate* unmanaged<nint, int, int>)Get(torchCuda.Value, "torch_set_current_cuda_stream"),
            StreamEndCapture = (delegate* unmanaged<nint, nint*, int>)Get(cudart.Value, "cudaStreamEndCapture"),
            StreamIsCapturing = (delegate* unmanaged<nint, int*, int>)Get(cudart.Value, "cudaStreamIsCapturing"),
            GraphDestroy = (delegate* unmanaged<nint, int>)Get(cudart.Value, "cudaGraphDestroy"),
        };
        why = missing.Count == 0 ? "" : $"this libtorch does not export {string.Join(", ", missing)}";
        return missing.Count == 0 ? native : null;
    }
}
