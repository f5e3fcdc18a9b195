using System.Buffers;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime.Backends;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// One block's session. Inputs are handed to ONNX Runtime without a copy where they already sit in host memory
/// (a <see cref="HostTensor"/>, or a CPU tensor of another backend, viewed in place); outputs stay in ONNX Runtime's
/// memory until someone reads them.
/// </summary>
internal sealed class OnnxBlockRunner(InferenceSession session, PlanBlock block) : IBlockRunner
{
    private readonly string[] _inputNames = [.. block.Inputs];
    private readonly string[] _outputNames = [.. block.Outputs];
    // Run options hold no per-run state: one serves every run, also concurrent ones (making one per run costs microseconds).
    private readonly RunOptions _runOptions = new();

    public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
    {
        var hosts = new HostTensor[inputs.Length];
        var pins = new MemoryHandle[inputs.Length];
        var values = new OrtValue[inputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                hosts[i] = inputs[i].ToHost();
                pins[i] = hosts[i].Bytes.Pin();
                unsafe
                {
                    values[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ElementType(hosts[i].DType), hosts[i].Shape as long[] ?? [.. hosts[i].Shape],
                        (nint)pins[i].Pointer, hosts[i].Bytes.Length);
                }
            }
            var outputs = session.Run(_runOptions, _inputNames, values, _outputNames);
            var results = new RunValue[outputs.Count];
            var o = 0;
            foreach (var output in outputs)
            {
                results[o++] = new OrtRunValue(output);
            }
            return results;
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxRunFailed,
                $"ONNX Runtime failed on inputs ({string.Join(", ", hosts.Where(h => h is not null).Select(h => $"[{string.Join(", ", h.Shape)}] {h.DType}"))}): {e.Message}");
        }
        finally
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
                if (hosts[i] is { } host && !ReferenceEquals(host, inputs[i]))
                {
                    host.Dispose();
                }
            }
        }
    }

    /// <summary>The session is the model's (shared by the blocks naming its payload), disposed with it.</summary>
    public void Dispose() => _runOptions.Dispose();

    internal static TensorElementType ElementType(TensorDType dtype) => dtype switch
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
        TensorDType.BOOL => TensorElementType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    internal static TensorDType DType(TensorElementType type) => type switch
    {
        TensorElementType.Float => TensorDType.F32,
        TensorElementType.Double => TensorDType.F64,
        TensorElementType.Float16 => TensorDType.F16,
        TensorElementType.BFloat16 => TensorDType.BF16,
        TensorElementType.Int64 => TensorDType.I64,
        TensorElementType.Int32 => TensorDType.I32,
        TensorElementType.Int16 => TensorDType.I16,
        TensorElementType.Int8 => TensorDType.I8,
        TensorElementType.UInt8 => TensorDType.U8,
        TensorElementType.Bool => TensorDType.BOOL,
        _ => throw new NotSupportedException($"ONNX Runtime returned a {type} tensor, which ModelBuild does not carry between blocks."),
    };
}
