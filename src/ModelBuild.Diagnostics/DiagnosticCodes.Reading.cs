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

    /// <summary>The model file does not exist or cannot be opened.</summary>
    public const string ModelFileNotFound = "MB1010";
    /// <summary>The file is not a model format ModelBuild reads (PT2 archive, TorchScript, ONNX).</summary>
    public const string ModelFormatUnknown = "MB1011";
    /// <summary>A zip archive (PT2, TorchScript, a torch.save file inside one) is truncated or corrupt.</summary>
    public const string ArchiveCorrupt = "MB1012";
    /// <summary>A zip entry's name leaves the archive (<c>..</c>, absolute path, backslash, drive letter).</summary>
    public const string ArchiveUnsafeEntry = "MB1013";
    /// <summary>An archive, or the sum of its entries, is bigger than the configured limit.</summary>
    public const string ArchiveTooLarge = "MB1014";
    /// <summary>An entry the layout requires is missing from the archive.</summary>
    public const string ArchiveEntryMissing = "MB1015";
    /// <summary>A PT2 archive holds several programs and none is named <c>model</c>.</summary>
    public const string ArchiveAmbiguous = "MB1016";
    /// <summary>An archive's entries inflate to more than its inflation allowance (a compression bomb).</summary>
    public const string ArchiveInflationExceeded = "MB1017";
    /// <summary>The exported program's schema major version is not the one ModelBuild reads (8).</summary>
    public const string SchemaVersionUnsupported = "MB1020";
    /// <summary>The exported program's JSON is not valid JSON or lacks a field the schema requires.</summary>
    public const string ProgramMalformed = "MB1021";
    /// <summary>A tensor size names a symbol that has no entry in <c>range_constraints</c>.</summary>
    public const string SymbolWithoutRange = "MB1022";
    /// <summary>A node argument, output or signature entry is of a kind ModelBuild does not handle.</summary>
    public const string ArgumentKindUnsupported = "MB1023";
    /// <summary>A tensor has a negative size, more than 2^40 elements, or a symbolic size where a constant is needed.</summary>
    public const string TensorSizeInvalid = "MB1024";
    /// <summary>A weight's stored bytes do not cover its sizes, strides and offset, or the weight is not stored.</summary>
    public const string WeightDataMismatch = "MB1025";
    /// <summary>A tensor has an element type ModelBuild does not handle.</summary>
    public const string DTypeUnsupported = "MB1026";
    /// <summary>The archive's data is big-endian.</summary>
    public const string ByteOrderUnsupported = "MB1027";
    /// <summary>A pickle names a global (class or function) outside the allow-list; it is never executed.</summary>
    public const string PickleGlobalNotAllowed = "MB1030";
    /// <summary>A pickle is truncated, uses an opcode ModelBuild does not read, or builds something it cannot interpret.</summary>
    public const string PickleMalformed = "MB1031";
    /// <summary>A pickle builds more values than <c>ModelReaderOptions.MaxPickleValues</c>.</summary>
    public const string PickleTooLarge = "MB1032";
    /// <summary>A TorchScript archive lacks its module code or its forward signature cannot be read.</summary>
    public const string TorchScriptMalformed = "MB1040";
    /// <summary>An ONNX file cannot be parsed or has no graph.</summary>
    public const string OnnxMalformed = "MB1050";
}
