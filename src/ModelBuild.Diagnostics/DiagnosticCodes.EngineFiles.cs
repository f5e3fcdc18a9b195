namespace ModelBuild.Diagnostics;

/// <summary>Engine files (MB4003-MB4999): container, manifest, integrity and compatibility.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>A safetensors file is not a ModelBuild engine (no <c>format: modelbuild-engine</c>, manifest or plan).</summary>
    public const string EngineNotAnEngine = "MB4003";
    /// <summary>The engine's manifest schema version is one this runtime cannot read.</summary>
    public const string EngineSchemaUnsupported = "MB4004";
    /// <summary>The payload (tensor bytes and plan) does not match the SHA-256 recorded in the manifest.</summary>
    public const string EnginePayloadTampered = "MB4005";
    /// <summary>The engine may not be loaded by this runtime version (the manifest's <c>runtimeVersions</c> range excludes it).</summary>
    public const string EngineRuntimeVersionRejected = "MB4006";
    /// <summary>The manifest or plan JSON is not valid.</summary>
    public const string EngineMetadataInvalid = "MB4007";
    /// <summary>The plan reads a weight the engine file does not hold.</summary>
    public const string EngineWeightMissing = "MB4008";
    /// <summary>The assembly has no embedded resource of the given name.</summary>
    public const string EngineResourceNotFound = "MB4009";
    /// <summary>The manifest does not match the SHA-256 the engine records for it (<c>__metadata__.manifestSha256</c>).</summary>
    public const string EngineManifestTampered = "MB4011";
    /// <summary>A field the manifest or plan requires is missing, null or empty; the message names the field.</summary>
    public const string EngineFieldMissing = "MB4012";
    /// <summary>The manifest and plan contradict themselves or each other (counts, names, ranges, values read before they exist).</summary>
    public const string EngineInconsistent = "MB4013";
}
