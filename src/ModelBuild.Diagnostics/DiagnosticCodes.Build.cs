namespace ModelBuild.Diagnostics;

/// <summary>MB6xxx: MSBuild integration (ModelCompile items, the modelc tool, the engine cache).</summary>
public static partial class DiagnosticCodes
{
    /// <summary>A ModelCompile item names a model file that does not exist.</summary>
    public const string ModelCompileFileMissing = "MB6001";
    /// <summary>A ModelCompile item's Device is not cpu or cuda.</summary>
    public const string UnknownDevice = "MB6002";
    /// <summary>A ModelCompile item's Precision is not fp32, fp16 or bf16.</summary>
    public const string UnknownPrecision = "MB6003";
    /// <summary>A ModelCompile item's Shapes entry is not <c>input:dim=min..opt..max</c> with min &lt;= opt &lt;= max.</summary>
    public const string MalformedShapeOption = "MB6004";
    /// <summary>A ModelCompile item's Tolerance is not a positive number.</summary>
    public const string MalformedTolerance = "MB6005";
    /// <summary>A ModelCompile item's ClassName or Namespace is not a C# identifier (or dotted name).</summary>
    public const string InvalidAccessorName = "MB6006";
    /// <summary>Two ModelCompile items of one project would generate the same class.</summary>
    public const string DuplicateAccessorName = "MB6007";
    /// <summary>A ModelCompile item's Embed is not true or false.</summary>
    public const string MalformedEmbed = "MB6008";
    /// <summary>The modelc compiler was not found where the overrides or the SDK say it is.</summary>
    public const string ModelcNotFound = "MB6009";
    /// <summary>The libtorch native folder that modelc needs was not found.</summary>
    public const string LibTorchNotFound = "MB6010";
    /// <summary>modelc failed without reporting a coded error.</summary>
    public const string ModelcFailed = "MB6011";
    /// <summary>modelc succeeded but the engine it wrote has no readable manifest.</summary>
    public const string EngineManifestUnreadable = "MB6012";
    /// <summary>Warning: a cache entry was missing its content or failed its hash check; it was treated as a miss.</summary>
    public const string CacheEntryCorrupt = "MB6013";
    /// <summary>Warning: an engine could not be stored in the cache (the build goes on).</summary>
    public const string CacheWriteFailed = "MB6014";
    /// <summary>With <c>-question</c>: a ModelCompile item's options changed, so the build is not up to date.</summary>
    public const string ModelCompileOutOfDate = "MB6015";
    /// <summary>A ModelCompile item's Backend is not auto, torch or onnxruntime.</summary>
    public const string UnknownBackend = "MB6016";
    /// <summary>A ModelCompile item's MinBlockSize is not a whole number of at least 1.</summary>
    public const string MalformedMinBlockSize = "MB6017";
    /// <summary>An engine runs on a backend whose runtime package the app does not reference.</summary>
    public const string EngineBackendNotReferenced = "MB6018";
}
