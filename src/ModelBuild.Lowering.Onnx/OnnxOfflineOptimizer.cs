using Microsoft.ML.OnnxRuntime;
using ModelBuild.Diagnostics;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// ONNX Runtime's graph optimizations that hold on every CPU (ORT_ENABLE_EXTENDED: constant folding, redundant node
/// removal, Conv/MatMul/Gemm/GELU/LayerNorm/attention fusions), run once at compile time and saved, so that loading an
/// engine only adds the layout optimizations of the machine it runs on (ORT_ENABLE_ALL).
/// </summary>
public static class OnnxOfflineOptimizer
{
    /// <summary>The optimized model of <paramref name="model"/> (ONNX bytes); <paramref name="file"/> is named in errors.</summary>
    public static byte[] Optimize(byte[] model, string file)
    {
        ArgumentNullException.ThrowIfNull(model);
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                OptimizedModelFilePath = path,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                IntraOpNumThreads = 1,
            })
            using (new InferenceSession(model, options))
            {
            }
            return File.ReadAllBytes(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxOptimizationFailed,
                $"ONNX Runtime rejected the ONNX model it was to optimize: {e.Message.Split('\n')[0]}", file, e);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
