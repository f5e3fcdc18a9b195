using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using NuGet.Versioning;

namespace ModelBuild.Engine.Container;

/// <summary>
/// A ModelBuild engine: a safetensors file whose tensors are the plan's weights (under their value names) and whose
/// <c>__metadata__</c> holds <c>format</c> = <c>modelbuild-engine</c>, the manifest JSON and the plan JSON
/// (docs/engine-format.md), and <c>manifestSha256</c>, the SHA-256 of the manifest JSON. <see cref="Read"/> checks both
/// hashes, the schema version and the runtime version range before anything else uses the file, so that a byte changed
/// anywhere in it is an error, and then that manifest and plan hold every field the runtime needs and agree.
/// </summary>
public sealed class EngineFile
{
    /// <summary>The value of <see cref="FormatKey"/> that marks a safetensors file as an engine.</summary>
    public const string FormatName = "modelbuild-engine";
    /// <summary>The <c>__metadata__</c> key of the format marker.</summary>
    public const string FormatKey = "format";
    /// <summary>The <c>__metadata__</c> key of the manifest JSON.</summary>
    public const string ManifestKey = "manifest";
    /// <summary>The <c>__metadata__</c> key of the execution plan JSON.</summary>
    public const string PlanKey = "plan";
    /// <summary>The <c>__metadata__</c> key of the manifest JSON's SHA-256, which ties the manifest to the payload hash it records.</summary>
    public const string ManifestHashKey = "manifestSha256";

    private EngineFile(EngineManifest manifest, ExecutionPlan plan, SafetensorsFile tensors)
    {
        Manifest = manifest;
        Plan = plan;
        Tensors = tensors;
    }

    /// <summary>What the engine was compiled from, for, and validated at.</summary>
    public EngineManifest Manifest { get; }

    /// <summary>The nodes the runtime executes, with the weights and buffers they use.</summary>
    public ExecutionPlan Plan { get; }

    /// <summary>The weights, by value name, over the bytes the engine was read from.</summary>
    public SafetensorsFile Tensors { get; }

    /// <summary>The engine's bytes; the manifest's <see cref="EngineManifest.PayloadSha256"/> is computed here and replaces the given one.</summary>
    public static byte[] Write(EngineManifest manifest, ExecutionPlan plan, IReadOnlyCollection<SafetensorsTensor> weights)
    {
        var planJson = JsonSerializer.Serialize(plan, EngineJson.Options);
        var hash = EnginePayloadHash.Compute(planJson, weights.Select(w => (w.Name, w.DType, (IReadOnlyList<long>)w.Shape, w.Bytes)));
        var manifestJson = JsonSerializer.Serialize(manifest with { PayloadSha256 = hash }, EngineJson.Options);
        return SafetensorsWriter.Write(weights, new Dictionary<string, string>
        {
            [FormatKey] = FormatName,
            [ManifestKey] = manifestJson,
            [ManifestHashKey] = ManifestHash(manifestJson),
            [PlanKey] = planJson,
        });
    }

    /// <summary>Reads and checks an engine.</summary>
    /// <param name="bytes">The engine file's bytes; the tensors are read in place, not copied.</param>
    /// <param name="file">Named in errors.</param>
    /// <param name="runtimeVersion">The loading runtime's version, checked against the manifest's range; null to skip (inspection).</param>
    public static EngineFile Read(ReadOnlyMemory<byte> bytes, string file, NuGetVersion? runtimeVersion)
    {
        var tensors = SafetensorsFile.Parse(bytes, file);
        if (!tensors.Metadata.TryGetValue(FormatKey, out var format) || format != FormatName
            || !tensors.Metadata.TryGetValue(ManifestKey, out var manifestJson) || !tensors.Metadata.TryGetValue(PlanKey, out var planJson)
            || !tensors.Metadata.TryGetValue(ManifestHashKey, out var manifestHash))
        {
            throw new ModelBuildException(DiagnosticCodes.EngineNotAnEngine,
                $"the file is a safetensors file but not a ModelBuild engine: its __metadata__ lacks \"{FormatKey}\": \"{FormatName}\", \"{ManifestKey}\", \"{ManifestHashKey}\" or \"{PlanKey}\" (engines of ModelBuild before 0.1 lack the hash: compile again).", file);
        }
        // One UTF-8 copy of the manifest serves its hash, the schema check and its deserialization.
        var manifestUtf8 = Encoding.UTF8.GetBytes(manifestJson);
        var actualManifestHash = ManifestHash(manifestUtf8);
        if (!string.Equals(actualManifestHash, manifestHash, StringComparison.Ordinal))
        {
            throw new ModelBuildException(DiagnosticCodes.EngineManifestTampered,
                $"the engine's manifest has SHA-256 {actualManifestHash}, but the engine records {manifestHash}: the file was modified or corrupted after it was compiled. Compile it again.", file);
        }
        var schema = ReadSchemaVersion(manifestUtf8, file);
        if (schema != EngineManifest.CurrentSchemaVersion)
        {
            throw new ModelBuildException(DiagnosticCodes.EngineSchemaUnsupported,
                $"the engine's manifest has schema version {schema}; this ModelBuild reads version {EngineManifest.CurrentSchemaVersion}. Compile the model again with a matching modelc.", file);
        }
        var manifest = Deserialize<EngineManifest>(manifestUtf8, "manifest", file);
        EngineContentValidator.CheckManifest(manifest, file);
        if (runtimeVersion is not null)
        {
            CheckRuntimeVersion(manifest, runtimeVersion, file);
        }
        var planUtf8 = Encoding.UTF8.GetBytes(planJson);
        var actual = EnginePayloadHash.Compute(planUtf8, tensors.Tensors.Values.Select(e => (e.Name, e.DType, (IReadOnlyList<long>)e.Shape, tensors.Data(e.Name))));
        if (!string.Equals(actual, manifest.PayloadSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelBuildException(DiagnosticCodes.EnginePayloadTampered,
                $"the engine's payload (weights and plan) has SHA-256 {actual}, but its manifest records {manifest.PayloadSha256}: the file was modified or corrupted after it was compiled. Compile it again.", file);
        }
        var plan = Deserialize<ExecutionPlan>(planUtf8, "plan", file);
        EngineContentValidator.CheckPlan(plan, manifest, file);
        var missing = plan.Blocks.SelectMany(b => b.Payload is { } payload ? [.. b.Weights, payload] : b.Weights)
            .Where(w => !tensors.Tensors.ContainsKey(w)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw new ModelBuildException(DiagnosticCodes.EngineWeightMissing,
                $"the plan reads tensors the engine does not hold: {string.Join(", ", missing.Select(m => $"'{m}'"))}.", file);
        }
        return new EngineFile(manifest, plan, tensors);
    }

    /// <summary>Lowercase hex SHA-256 of the manifest JSON's UTF-8 bytes, as stored under <see cref="ManifestHashKey"/>.</summary>
    public static string ManifestHash(string manifestJson) => ManifestHash(Encoding.UTF8.GetBytes(manifestJson));

    private static string ManifestHash(ReadOnlySpan<byte> manifestUtf8) => Convert.ToHexStringLower(SHA256.HashData(manifestUtf8));

    // The manifest's top-level schemaVersion (the last one, as deserialization takes), read before the rest of the
    // manifest is interpreted: a manifest of another schema may hold anything else. The scan reads to the end, so
    // JSON that is not valid anywhere is refused here.
    private static int ReadSchemaVersion(ReadOnlySpan<byte> json, string file)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = EngineJson.Options.MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("the manifest is not a JSON object");
            }
            int? schema = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isSchema = reader.ValueTextEquals("schemaVersion"u8);
                reader.Read();
                if (isSchema)
                {
                    schema = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value)
                        ? value : throw new JsonException("schemaVersion is not a 32-bit integer");
                }
                reader.Skip();
            }
            if (reader.Read())
            {
                throw new JsonException("the manifest has content after its object");
            }
            return schema ?? throw new JsonException("the manifest has no schemaVersion");
        }
        catch (JsonException e)
        {
            throw new ModelBuildException(DiagnosticCodes.EngineMetadataInvalid, $"the engine's manifest is not valid JSON with a schemaVersion: {e.Message}", file);
        }
    }

    private static void CheckRuntimeVersion(EngineManifest manifest, NuGetVersion runtimeVersion, string file)
    {
        if (!VersionRange.TryParse(manifest.RuntimeVersions, out var range))
        {
            throw new ModelBuildException(DiagnosticCodes.EngineMetadataInvalid, $"the manifest's runtimeVersions '{manifest.RuntimeVersions}' is not a NuGet version range.", file);
        }
        if (!range.Satisfies(runtimeVersion))
        {
            throw new ModelBuildException(DiagnosticCodes.EngineRuntimeVersionRejected,
                $"the engine may be loaded by ModelBuild.Runtime {manifest.RuntimeVersions}, but this is {runtimeVersion.ToNormalizedString()}. Compile the model with the modelc that matches this runtime.", file);
        }
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> json, string what, string file)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, EngineJson.Options)
                ?? throw new JsonException($"the {what} is null");
        }
        catch (JsonException e)
        {
            throw new ModelBuildException(DiagnosticCodes.EngineMetadataInvalid, $"the engine's {what} JSON is not valid: {e.Message}", file);
        }
        catch (NotSupportedException e)
        {
            // The polymorphic argument kinds throw this for a missing or misplaced "kind" discriminator.
            throw new ModelBuildException(DiagnosticCodes.EngineMetadataInvalid, $"the engine's {what} JSON is not valid: {e.Message}", file);
        }
    }
}
