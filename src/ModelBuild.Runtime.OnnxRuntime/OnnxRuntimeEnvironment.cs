using Microsoft.ML.OnnxRuntime;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// ONNX Runtime's process-wide environment, as ModelBuild makes it: with one intra-op thread pool that the sessions of
/// engines share, instead of a pool per session. Starting a session's own pool was most of a small engine's load (the
/// `mlp` fixture's session: 0.31 ms on the shared pool, 0.75 ms with a pool of four threads of its own), and an app that
/// loads several engines would otherwise hold a pool per block, each sized to the whole machine, competing for it.
/// </summary>
/// <remarks>
/// The environment is a singleton that only its first creator configures: an app that made it before loading an
/// engine keeps it, and every session then brings its own threads (as before). An app that wants to configure it
/// itself must do so before its first engine load.
/// </remarks>
public static class OnnxRuntimeEnvironment
{
    private static readonly Lazy<bool> Shared = new(Create);

    /// <summary>
    /// Whether sessions share ModelBuild's thread pool: true when ModelBuild made the environment (the first call
    /// makes it, if nobody has), false when the process had made it before.
    /// </summary>
    public static bool SharesThreadPool => Shared.Value;

    private static bool Create()
    {
        if (OrtEnv.IsCreated)
        {
            return false;
        }
        // One thread per processor this process may run on (as libtorch's pool), which follows the affinity mask:
        // ONNX Runtime's own default counts the machine's physical cores. Idle threads spin, as a session's own do.
        using var threads = new OrtThreadingOptions { GlobalIntraOpNumThreads = Environment.ProcessorCount, GlobalInterOpNumThreads = 1, GlobalSpinControl = true };
        var options = new EnvironmentCreationOptions { threadOptions = threads };
        try
        {
            OrtEnv.CreateInstanceWithOptions(ref options);
            return true;
        }
        catch (OnnxRuntimeException) when (OrtEnv.IsCreated)
        {
            // Another thread made it in between, with its own options.
            return false;
        }
    }
}
