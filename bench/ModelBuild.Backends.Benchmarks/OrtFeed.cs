using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;

namespace ModelBuild.Backends.Benchmarks;

/// <summary>
/// An ONNX Runtime session with the case's inputs as OrtValues over pinned host memory, made once (the session's inputs
/// in order, one per case input), so a run times ONNX Runtime alone.
/// </summary>
internal sealed class OrtFeed : IDisposable
{
    private readonly InferenceSession _session;
    private readonly MemoryHandle[] _pins;
    private readonly OrtValue[] _values;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();

    public OrtFeed(InferenceSession session, HostTensor[] inputs)
    {
        _session = session;
        _inputNames = [.. session.InputNames];
        _outputNames = [.. session.OutputNames];
        if (_inputNames.Length != inputs.Length)
        {
            throw new InvalidOperationException($"the ONNX model has {_inputNames.Length} inputs, the case {inputs.Length}");
        }
        _pins = [.. inputs.Select(h => h.Bytes.Pin())];
        _values = new OrtValue[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            unsafe
            {
                _values[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ElementType(inputs[i].DType),
                    [.. inputs[i].Shape], (nint)_pins[i].Pointer, inputs[i].Bytes.Length);
            }
        }
    }

    public void Run()
    {
        using var outputs = _session.Run(_runOptions, _inputNames, _values, _outputNames);
    }

    public void Dispose()
    {
        foreach (var v in _values)
        {
            v.Dispose();
        }
        foreach (var p in _pins)
        {
            p.Dispose();
        }
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static TensorElementType ElementType(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => TensorElementType.Float,
        TensorDType.F64 => TensorElementType.Double,
        TensorDType.F16 => TensorElementType.Float16,
        TensorDType.I64 => TensorElementType.Int64,
        TensorDType.I32 => TensorElementType.Int32,
        TensorDType.BOOL => TensorElementType.Bool,
        _ => throw new NotSupportedException($"input dtype {dtype}"),
    };
}
