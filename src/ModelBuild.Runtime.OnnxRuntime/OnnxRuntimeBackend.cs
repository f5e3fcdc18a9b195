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
        var threads = block.Threads switch
        {
            null => Environment.ProcessorCount,
            >= 1 and var t => Math.Min(t, Environment.ProcessorCount),
            var t => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"the ONNX Runtime block asks for {t} threads; a block runs on at least one.", context.File),
        };
        // Blocks naming one payload share its session (disposed with the model): a plan that repeats a block, as a
        // damaged or hostile one can, creates it once.
        var session = context.Shared($"onnxruntime.{payload}.{threads}", () => CreateSession(context.Engine.Tensors.Data(payload).Span, context.File, threads, spin: !mixed));
        return new OnnxBlockRunner(session, block);
    }

    /// <summary>
    /// A session over an ONNX model's bytes (read in place: the engine's payload is not copied), with every graph
    /// optimization this machine allows and <paramref name="threads"/> intra-op threads: by default one per processor
    /// this process may run on (as libtorch's pool), since ONNX Runtime's own default counts the machine's physical cores
    /// rather than the affinity mask, so under <c>taskset</c> or a container's CPU set its threads could outnumber the
    /// processors and spin against each other (and a comparison with another runtime would not be like for like).
    /// Without <paramref name="spin"/>, idle threads sleep instead of spinning: in a plan that alternates with TorchSharp
    /// blocks, spinning threads hold the cores libtorch's threads need next (measured: 58x and 29x slower, docs/benchmarks.md).
    /// </summary>
    internal static OrtSession CreateSession(ReadOnlySpan<byte> model, string file, int threads, bool spin = true)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        if (!spin)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
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
