namespace ModelBuild.Diagnostics;

/// <summary>Execution backends (MB7xxx): choosing, compiling for and loading the backends that run a plan's blocks.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>An engine's block names a backend this runtime does not know.</summary>
    public const string BackendUnknown = "MB7001";
    /// <summary>An engine's block runs on a backend whose package the app does not reference.</summary>
    public const string BackendNotReferenced = "MB7002";
    /// <summary>A backend cannot run on the device the model is loaded onto.</summary>
    public const string BackendDeviceUnsupported = "MB7003";
    /// <summary>ONNX Runtime could not create a session for an engine's ONNX block.</summary>
    public const string OnnxSessionFailed = "MB7004";
    /// <summary>ONNX Runtime failed while it ran a block.</summary>
    public const string OnnxRunFailed = "MB7005";
    /// <summary>Note: a CUDA engine runs without CUDA graphs (the process cannot use them, or the plan cannot be captured), with the reason.</summary>
    public const string CudaGraphsOff = "MB7006";
    /// <summary>Note: inputs of one signature could not be captured as a CUDA graph and run without one, with the reason.</summary>
    public const string CudaGraphCaptureFailed = "MB7007";
    /// <summary>ONNX Runtime rejected a model the compiler lowered (or an ONNX input) when it optimized it offline.</summary>
    public const string OnnxOptimizationFailed = "MB7008";
    /// <summary>The onnxruntime backend was asked for a device other than the CPU.</summary>
    public const string OnnxRuntimeDeviceUnsupported = "MB7009";
    /// <summary>A TorchScript block's module failed while it ran (its forward refused the inputs the plan gave it, or raised).</summary>
    public const string TorchScriptRunFailed = "MB7010";
}
