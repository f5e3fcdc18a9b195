using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>A tensor as bytes, with its dtype and shape, as the fixtures' cases files hold them.</summary>
internal sealed record TensorData(TensorDType DType, long[] Shape, byte[] Bytes)
{
    public static TensorData Of(SafetensorsFile file, string name)
    {
        var entry = file.Entry(name);
        return new TensorData(entry.DType, [.. entry.Shape], file.Data(name).ToArray());
    }

    public float[] Floats() => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Bytes).ToArray();
}

/// <summary>Runs an ONNX model in ONNX Runtime, as the onnxruntime backend does (every optimization on), on tensors given as bytes.</summary>
internal static class OnnxSession
{
    public static TensorData[] Run(byte[] model, params TensorData[] inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var typed = new List<OrtValue>();
        try
        {
            typed.AddRange(inputs.Select(Typed));
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, session.InputNames, typed, session.OutputNames);
            return [.. outputs.Select(o =>
            {
                var info = o.GetTensorTypeAndShape();
                return new TensorData(DType(info.ElementDataType), info.Shape, o.GetTensorDataAsSpan<byte>().ToArray());
            })];
        }
        finally
        {
            foreach (var v in typed)
            {
                v.Dispose();
            }
        }
    }

    private static OrtValue Typed(TensorData t)
    {
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, ElementType(t.DType), t.Shape);
        t.Bytes.CopyTo(value.GetTensorMutableDataAsSpan<byte>());
        return value;
    }

    private static TensorElementType ElementType(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => TensorElementType.Float,
        TensorDType.F64 => TensorElementType.Double,
        TensorDType.F16 => TensorElementType.Float16,
        TensorDType.BF16 => TensorElementType.BFloat16,
        TensorDType.I64 => TensorElementType.Int64,
        TensorDType.I32 => TensorElementType.Int32,
        TensorDType.I16 => TensorElementType.Int16,
        TensorDType.I8 => TensorElementType.Int8,
        TensorDType.U8 => TensorElementType.UInt8,
        _ => TensorElementType.Bool,
    };

    private static TensorDType DType(TensorElementType type) => Enum.GetValues<TensorDType>().Single(d => ElementType(d) == type);
}
