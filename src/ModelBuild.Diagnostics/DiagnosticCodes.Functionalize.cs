namespace ModelBuild.Diagnostics;

/// <summary>Functionalization (MB2801-MB2899): in-place operators the compiler cannot rewrite into functional ones.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>An in-place operator mutates a graph input (or a view of one): the caller's tensor would change.</summary>
    public const string InPlaceMutatesInput = "MB2801";
    /// <summary>An in-place operator mutates a weight (or a view of one): the engine's weights would change from run to run.</summary>
    public const string InPlaceMutatesWeight = "MB2802";
    /// <summary>
    /// An in-place operator mutates a tensor with an alias read after the mutation: a view taken of it earlier, or the
    /// base it is a view of. The functional form would leave the alias holding the old values.
    /// </summary>
    public const string InPlaceMutatesAliasedTensor = "MB2803";
}
