namespace ModelBuild.Diagnostics;

/// <summary>Compiling (MB2001-MB2899): lowering, options and shape ranges.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>The graph uses operators the runtime has no kernel for; one error lists them all with where they are used.</summary>
    public const string UnsupportedOperators = "MB2001";
    /// <summary>A <c>--shape</c> option is not of the form <c>input:dim=min..opt..max</c> or <c>input:dim=min..max</c>.</summary>
    public const string ShapeOptionMalformed = "MB2002";
    /// <summary>A <c>--shape</c> option names an input or a dim the model does not have.</summary>
    public const string ShapeOptionUnknownDim = "MB2003";
    /// <summary>A <c>--shape</c> option widens the range the model was exported with.</summary>
    public const string ShapeRangeWidened = "MB2004";
    /// <summary>A symbol has no upper bound in the archive and no <c>--shape</c> gives one.</summary>
    public const string ShapeRangeUnbounded = "MB2005";
    /// <summary>A <c>--shape</c> option's values are not ordered min &lt;= opt &lt;= max, or are below 0.</summary>
    public const string ShapeRangeDisordered = "MB2006";
    /// <summary>A <c>--shape</c> option gives a range for a dim that is static, or that is an expression no range can be solved for.</summary>
    public const string ShapeOptionNotSymbolic = "MB2007";
    /// <summary>An option has a value the compiler does not know (device, precision, tolerance).</summary>
    public const string OptionInvalid = "MB2008";
    /// <summary>A TorchScript model carries no shapes: every dim of every input must be given with <c>--shape</c>.</summary>
    public const string TorchScriptNeedsShapes = "MB2009";
    /// <summary>The target device is not available on the machine that compiles (validation runs the engine there).</summary>
    public const string DeviceUnavailable = "MB2010";
    /// <summary>A <c>--shape</c> option's range contradicts a relation of the archive, or two options give one symbol different ranges.</summary>
    public const string ShapeRangeConflict = "MB2011";
    /// <summary>A TorchScript module's forward returns something other than a tensor, a tuple or a list of tensors.</summary>
    public const string TorchScriptOutputUnsupported = "MB2013";
    /// <summary>An ONNX model's input has a named dim that no <c>--shape</c> gives a range (ONNX keeps no ranges).</summary>
    public const string OnnxDimWithoutRange = "MB2014";
}
