using System.Buffers;
using System.Runtime.InteropServices;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime.Backends;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// One block's runs on its session. Inputs are handed to ONNX Runtime without a copy where they already sit in host
/// memory (a <see cref="HostTensor"/>, or a CPU tensor of another backend, viewed in place); outputs are
/// <see cref="HostTensor"/>s over ONNX Runtime's buffers.
/// </summary>
internal sealed unsafe class OnnxBlockRunner : IBlockRunner
{
    private static readonly nint CpuMemory = OrtMemoryInfo.DefaultInstance.DangerousGetHandle();

    private readonly OrtSession _session;
    private readonly int _inputCount;
    private readonly int _outputCount;
    // The input names, then the output names: zero-terminated UTF-8 in native memory, made once for every run.
    private readonly nint* _names;
    // Run options hold no per-run state: one serves every run, also concurrent ones (making one per run costs microseconds).
    private readonly RunOptions _runOptions = new();

    public OnnxBlockRunner(OrtSession session, PlanBlock block)
    {
        _session = session;
        _inputCount = block.Inputs.Count;
        _outputCount = block.Outputs.Count;
        _names = (nint*)NativeMemory.AllocZeroed((nuint)(_inputCount + _outputCount), (nuint)sizeof(nint));
        var k = 0;
        foreach (var name in block.Inputs.Concat(block.Outputs))
        {
            _names[k++] = Marshal.StringToCoTaskMemUTF8(name);
        }
    }

    public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
    {
        if (inputs.Length != _inputCount)
        {
            throw new ArgumentException($"the block reads {_inputCount} values, not {inputs.Length}.", nameof(inputs));
        }
        var hosts = new HostTensor[_inputCount];
        var pins = new MemoryHandle[_inputCount];
        var values = new nint[_inputCount];
        var outputs = new nint[_outputCount];
        var results = new RunValue[_outputCount];
        var made = 0;
        try
        {
            for (var i = 0; i < _inputCount; i++)
            {
                var host = hosts[i] = inputs[i].ToHost();
                pins[i] = host.Bytes.Pin();
                values[i] = OrtApi.CreateTensorWithData(CpuMemory, pins[i].Pointer, host.Bytes.Length, host.Shape as long[] ?? [.. host.Shape], ElementType(host.DType));
            }
            fixed (nint* inputValues = values, outputValues = outputs)
            {
                OrtApi.Run(_session.DangerousGetHandle(), _runOptions.DangerousGetHandle(), _names, inputValues, _inputCount, _names + _inputCount, _outputCount, outputValues);
            }
            for (; made < _outputCount; made++)
            {
                var value = outputs[made];
                outputs[made] = 0;
                results[made] = OrtOutput.Wrap(value);
            }
            return results;
        }
        catch (Exception e) when (e is OrtException or NotSupportedException)
        {
            for (var o = 0; o < made; o++)
            {
                results[o].Dispose();
            }
            throw new ModelBuildException(DiagnosticCodes.OnnxRunFailed,
                $"ONNX Runtime failed on inputs ({string.Join(", ", hosts.Where(h => h is not null).Select(h => $"[{string.Join(", ", h.Shape)}] {h.DType}"))}): {e.Message}");
        }
        finally
        {
            foreach (var output in outputs)
            {
                if (output != 0)
                {
                    OrtApi.ReleaseValue(output);
                }
            }
            for (var i = 0; i < _inputCount; i++)
            {
                if (values[i] != 0)
                {
                    OrtApi.ReleaseValue(values[i]);
                }
                pins[i].Dispose();
                if (hosts[i] is { } host && !ReferenceEquals(host, inputs[i]))
                {
                    host.Dispose();
                }
            }
            GC.KeepAlive(_session);
            GC.KeepAlive(_runOptions);
        }
    }

    /// <summary>The session is the model's (shared by the blocks naming its payload), disposed with it.</summary>
    public void Dispose()
    {
        for (var k = 0; k < _inputCount + _outputCount; k++)
        {
            Marshal.FreeCoTaskMem(_names[k]);
        }
        NativeMemory.Free(_names);
        _runOptions.Dispose();
    }

    private static int ElementType(TensorDType dtype) => (int)(dtype switch
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
    });

    internal static TensorDType DType(int elementType) => (TensorElementType)elementType switch
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
        _ => throw new NotSupportedException($"ONNX Runtime returned a {(TensorElementType)elementType} tensor, which ModelBuild does not carry between blocks."),
    };
}
