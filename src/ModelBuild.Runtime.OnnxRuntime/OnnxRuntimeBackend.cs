using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Backends;
using Microsoft.ML.OnnxRuntime;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// Runs blocks that the compiler lowered to ONNX and let ONNX Runtime optimize offline (the hardware-independent
/// fusions); the payload is that optimized model. One session per block, created at load with the layout
/// optimizations of the machine it runs on; sessions are thread-safe.
/// </summary>
public sealed class OnnxRuntimeBackend : IExecutionBackend
{
    /// <summary>The name plans use for it.</summary>
    public const string BackendName = "onnxruntime";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => device == "cpu";

    /// <inheritdoc/>
    public IBlockRunner Prepare(PlanBlock block, BlockContext context)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(context);
        var payload = block.Payload ?? throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, "the ONNX Runtime block names no payload.", context.File);
        var mixed = context.Engine.Plan.Blocks.Any(b => b.Backend != BackendName);
        // Blocks naming one payload share its session (disposed with the model): a plan that repeats a block, as a
        // damaged or hostile one can, creates it once.
        var session = context.Shared($"onnxruntime.{payload}", () => CreateSession(context.Engine.Tensors.Data(payload).Span, context.File, spin: !mixed));
        return new OnnxBlockRunner(session, block);
    }

    /// <summary>
    /// A session over an ONNX model's bytes (read in place: the engine's payload is not copied), with every graph
    /// optimization this machine allows, on <see cref="OnnxRuntimeEnvironment"/>'s shared pool of one intra-op thread per
    /// processor this process may run on (as libtorch's pool).
    /// Without <paramref name="spin"/>, or when the app made ONNX Runtime's environment itself, the session has its own
    /// pool of that size, whose idle threads sleep instead of spinning unless <paramref name="spin"/>: in a plan that
    /// alternates with TorchSharp blocks, spinning threads hold the cores libtorch's threads need next (measured: 58x
    /// and 29x slower, docs/benchmarks.md).
    /// </summary>
    internal static OrtSession CreateSession(ReadOnlySpan<byte> model, string file, bool spin = true)
    {
        // Asked first in every case: it makes the environment, which the session needs and SessionOptions' first use
        // makes with defaults.
        var shared = OnnxRuntimeEnvironment.SharesThreadPool;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (spin && shared)
        {
            options.DisablePerSessionThreads();
        }
        else
        {
            options.IntraOpNumThreads = Environment.ProcessorCount;
            options.InterOpNumThreads = 1;
            if (!spin)
            {
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            }
        }
        try
        {
            return OrtSession.Create(model, options);
        }
        catch (OrtException e)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxSessionFailed, $"ONNX Runtime could not load the block: {e.Message}", file, e);
        }
    }
}
