using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.OnnxRuntime;

/// <summary>
/// The functions of ONNX Runtime's C API that a block's session and its runs call, through the same function table
/// (<c>OrtApi</c>) that the Microsoft.ML.OnnxRuntime package calls through. The package's managed run wraps every value
/// in a finalizable object, looks names up per run and asks an output's type and shape twice before its bytes can be
/// read: on a model of a few microseconds that was 1.7 us per run, more than ONNX Runtime's own work
/// (docs/benchmarks.md). The package still loads the library and owns the environment, the session options and the
/// run options; this class only calls the C functions with their handles.
/// </summary>
internal static unsafe class OrtApi
{
    // Positions in struct OrtApi (onnxruntime_c_api.h). The table only grows at its end, so these never move, and every
    // entry used here exists since API version 1, the version asked for.
    private const uint ApiVersion = 1;
    private const int GetErrorMessageEntry = 2;
    private const int CreateSessionFromArrayEntry = 8;
    private const int RunEntry = 9;
    private const int CreateTensorWithDataAsOrtValueEntry = 49;
    private const int GetTensorMutableDataEntry = 51;
    private const int GetTensorElementTypeEntry = 60;
    private const int GetDimensionsCountEntry = 61;
    private const int GetDimensionsEntry = 62;
    private const int GetTensorTypeAndShapeEntry = 65;
    private const int ReleaseStatusEntry = 93;
    private const int ReleaseSessionEntry = 95;
    private const int ReleaseValueEntry = 96;
    private const int ReleaseTensorTypeAndShapeInfoEntry = 99;

    private static readonly nint* Table = GetTable();

    [DllImport("onnxruntime", EntryPoint = "OrtGetApiBase")]
    private static extern nint* OrtGetApiBase();

    /// <summary>A session over an ONNX model's bytes (read during the call, not kept).</summary>
    public static nint CreateSessionFromArray(nint env, ReadOnlySpan<byte> model, nint options)
    {
        nint session;
        fixed (byte* data = model)
        {
            Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)Table[CreateSessionFromArrayEntry])(env, data, (nuint)model.Length, options, &session));
        }
        return session;
    }

    /// <summary>Runs a session; <paramref name="outputs"/> must hold zeros (ONNX Runtime allocates them).</summary>
    public static void Run(nint session, nint runOptions, nint* inputNames, nint* inputs, int inputCount, nint* outputNames, int outputCount, nint* outputs) =>
        Check(((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)Table[RunEntry])(
            session, runOptions, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));

    /// <summary>A tensor value over memory that the caller keeps alive (and still) until the value is released.</summary>
    public static nint CreateTensorWithData(nint memoryInfo, void* data, long byteCount, ReadOnlySpan<long> shape, int elementType)
    {
        nint value;
        fixed (long* dims = shape)
        {
            Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)Table[CreateTensorWithDataAsOrtValueEntry])(
                memoryInfo, data, (nuint)byteCount, dims, (nuint)shape.Length, elementType, &value));
        }
        return value;
    }

    /// <summary>A tensor value's element type (ONNXTensorElementDataType), sizes and first byte, asked once.</summary>
    public static (int ElementType, long[] Shape, nint Data) Describe(nint value)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Table[GetTensorTypeAndShapeEntry])(value, &info));
        try
        {
            int elementType;
            nuint rank;
            Check(((delegate* unmanaged<nint, int*, nint>)Table[GetTensorElementTypeEntry])(info, &elementType));
            Check(((delegate* unmanaged<nint, nuint*, nint>)Table[GetDimensionsCountEntry])(info, &rank));
            var shape = new long[(int)rank];
            fixed (long* dims = shape)
            {
                Check(((delegate* unmanaged<nint, long*, nuint, nint>)Table[GetDimensionsEntry])(info, dims, rank));
            }
            void* data;
            Check(((delegate* unmanaged<nint, void**, nint>)Table[GetTensorMutableDataEntry])(value, &data));
            return (elementType, shape, (nint)data);
        }
        finally
        {
            ((delegate* unmanaged<nint, void>)Table[ReleaseTensorTypeAndShapeInfoEntry])(info);
        }
    }

    public static void ReleaseValue(nint value) => ((delegate* unmanaged<nint, void>)Table[ReleaseValueEntry])(value);

    public static void ReleaseSession(nint session) => ((delegate* unmanaged<nint, void>)Table[ReleaseSessionEntry])(session);

    private static nint* GetTable()
    {
        // The managed package loads the native library (with its own resolver) and creates the environment first.
        _ = Microsoft.ML.OnnxRuntime.OrtEnv.Instance();
        var getApi = (delegate* unmanaged<uint, nint*>)OrtGetApiBase()[0];
        var table = getApi(ApiVersion);
        return table != null ? table : throw new InvalidOperationException($"ONNX Runtime does not offer C API version {ApiVersion}.");
    }

    /// <summary>Throws <see cref="OrtException"/> with ONNX Runtime's message when a call returned a status (an error).</summary>
    private static void Check(nint status)
    {
        if (status == 0)
        {
            return;
        }
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)Table[GetErrorMessageEntry])(status));
        ((delegate* unmanaged<nint, void>)Table[ReleaseStatusEntry])(status);
        throw new OrtException(message ?? "(no message)");
    }
}

/// <summary>An error ONNX Runtime's C API returned; the backend turns it into a coded <see cref="Diagnostics.ModelBuildException"/>.</summary>
internal sealed class OrtException(string message) : Exception(message);
