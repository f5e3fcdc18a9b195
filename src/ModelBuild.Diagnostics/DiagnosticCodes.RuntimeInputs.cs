namespace ModelBuild.Diagnostics;

/// <summary>Runtime inputs (MB5xxx): inputs that do not fit the ranges an engine was compiled and validated for.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>Run was given a different number of inputs than the engine has.</summary>
    public const string InputCountMismatch = "MB5001";
    /// <summary>An input's dtype differs from the engine's.</summary>
    public const string InputDTypeMismatch = "MB5002";
    /// <summary>An input's dim binds a symbol to a value outside the compiled range.</summary>
    public const string InputDimOutOfRange = "MB5003";
    /// <summary>An input's rank differs from the engine's.</summary>
    public const string InputRankMismatch = "MB5004";
    /// <summary>An input's dim differs from the static size or from the value its expression takes.</summary>
    public const string InputDimMismatch = "MB5005";
    /// <summary>The inputs' dims violate a relation between symbols (an expression's range).</summary>
    public const string InputRelationViolated = "MB5006";
    /// <summary>
    /// A runtime check of the model failed (<c>torch._check</c>, <c>torch._check_is_size</c>, a range torch.export
    /// derived for a data-dependent value): the inputs' values are outside what the model was exported for.
    /// </summary>
    public const string RuntimeAssertionFailed = "MB5007";
}
