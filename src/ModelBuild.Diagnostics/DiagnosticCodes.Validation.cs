namespace ModelBuild.Diagnostics;

/// <summary>Numerical validation (MB3xxx): the engine against the reference interpretation.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>The engine's outputs differ from the reference (or from a case's expected outputs) beyond the tolerance.</summary>
    public const string ValidationOverTolerance = "MB3001";
    /// <summary>A cases file does not fit the model: a case lacks inputs or outputs, or their count differs.</summary>
    public const string CasesMalformed = "MB3002";
    /// <summary>Running the engine or the reference failed at a validation case (a kernel raised an error).</summary>
    public const string ValidationRunFailed = "MB3003";
    /// <summary>The engine's output shape differs from the reference's (or the expected output's).</summary>
    public const string ValidationShapeMismatch = "MB3004";
}
