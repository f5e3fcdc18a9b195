namespace ModelBuild.Diagnostics;

/// <summary>MB1xxx: reading models (symbolic size expressions, PT2 archives, pickles, TorchScript, ONNX).</summary>
public static partial class DiagnosticCodes
{
    /// <summary>A symbolic size expression is not well formed.</summary>
    public const string SymExprSyntax = "MB1001";
    /// <summary>A symbolic size expression uses a function or form that ModelBuild does not evaluate, or nests too deeply.</summary>
    public const string SymExprUnsupported = "MB1002";
    /// <summary>A symbolic size expression was evaluated without a value for one of its symbols.</summary>
    public const string SymExprUnboundSymbol = "MB1003";
    /// <summary>A symbolic size expression divides by zero or overflows 64-bit integers when evaluated.</summary>
    public const string SymExprArithmetic = "MB1004";
}
