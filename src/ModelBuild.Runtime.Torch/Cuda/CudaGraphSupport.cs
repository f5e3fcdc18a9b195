using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// Whether this process can use CUDA graphs, decided once: the entry points resolve, and a self-test captures a tiny
/// graph (<c>y = x * 2 + 1</c>), replays it on new input and compares. Any failure turns graphs off for the process,
/// with the reason.
/// </summary>
internal static class CudaGraphSupport
{
    private static readonly Lazy<(CudaGraphNative? Native, string Reason)> State = new(SelfTest);

    /// <summary>The entry points when graphs work here, else null.</summary>
    public static CudaGraphNative? Native => State.Value.Native;

    /// <summary>Why graphs are off in this process ("" when they are on).</summary>
    public static string Reason => State.Value.Reason;

    private static (CudaGraphNative?, string) SelfTest()
    {
        if (!cuda.is_available())
        {
            return (null, "CUDA is not available");
        }
        var native = CudaGraphNative.TryLoad(out var why);
        if (native is null)
        {
            return (null, why);
        }
        var device = new Device(TorchSharp.DeviceType.CUDA, 0);
        using var scope = NewDisposeScope();
        var x = ones(16, device: device);
        Tensor? y = null;
        using var graph = new CudaGraph(native);
        cuda.synchronize(device);
        var failure = graph.Capture(CudaGraph.SideStream(native, 0), 0, () =>
        {
            using var inner = NewDisposeScope(); // the intermediate x * 2 is freed during the capture, as in a real plan
            y = (x * 2 + 1).MoveToOuterDisposeScope();
        });
        cuda.synchronize(device);
        if (failure is not null)
        {
            return (null, $"the self-test capture failed: {failure}");
        }
        x.fill_(3);
        graph.Replay();
        cuda.synchronize(device);
        var ok = y!.eq(7).all().item<bool>();
        y.Dispose();
        return ok ? (native, "") : (null, "the self-test graph replayed to a wrong result");
    }
}
