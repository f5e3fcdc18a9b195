namespace ModelBuild.Diagnostics;

/// <summary>Codes of the operator kernels and the graph executor (MB2901-MB2999).</summary>
public static partial class DiagnosticCodes
{
    /// <summary>A node names an operator target that no kernel implements.</summary>
    public const string KernelUnsupportedTarget = "MB2901";
    /// <summary>A node lacks an argument its operator requires, or gives it with a kind the kernel cannot use.</summary>
    public const string KernelArgumentInvalid = "MB2902";
    /// <summary>A node gives an argument value the kernel does not implement (a dtype, a rounding mode, a layout).</summary>
    public const string KernelArgumentUnsupported = "MB2903";
    /// <summary>An operator failed while it ran (shapes that do not fit, an index out of range).</summary>
    public const string KernelFailed = "MB2904";
    /// <summary>An execution plan refers to a value nothing produces, or is run with the wrong number of inputs or weights.</summary>
    public const string PlanInconsistent = "MB2905";
    /// <summary>A tensor's dtype, device or sizes differ from what torch.export recorded at that point of the graph (<c>_assert_tensor_metadata</c>).</summary>
    public const string TensorMetadataMismatch = "MB2906";
}
