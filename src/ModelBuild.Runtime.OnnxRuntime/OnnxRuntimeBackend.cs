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
        // Blocks naming one payload share its session (disposed with the model): a plan that repeats a block, as a
        // damaged or hostile one can, creates it once.
        var session = context.Shared($"onnxruntime.{payload}", () => CreateSession(context.Engine.Tensors.Data(payload).ToArray(), context.File));
        return new OnnxBlockRunner(session, block);
    }

    /// <summary>A session over an ONNX model's bytes, with every graph optimization this machine allows.</summary>
    public static InferenceSession CreateSession(byte[] model, string file)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxSessionFailed, $"ONNX Runtime could not load the block: {e.Message}", file, e);
        }
    }
}
