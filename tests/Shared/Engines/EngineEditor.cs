using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Tests;

/// <summary>
/// Edits an engine's manifest and plan JSON and writes it back with both hashes recomputed, as anyone who knows the
/// format can: what the hashes cannot catch, the reader's own checks must. Linked into the projects that need it.
/// </summary>
internal static class EngineEditor
{
    /// <summary>The engine with <paramref name="edit"/> applied to its manifest and plan (parsed), hashes recomputed.</summary>
    public static byte[] Edit(ReadOnlyMemory<byte> engine, Action<JsonNode, JsonNode> edit)
    {
        var file = SafetensorsFile.Parse(engine);
        var manifest = JsonNode.Parse(file.Metadata[EngineFile.ManifestKey])!;
        var plan = JsonNode.Parse(file.Metadata[EngineFile.PlanKey])!;
        edit(manifest, plan);
        return Seal(file, manifest.ToJsonString(), plan.ToJsonString());
    }

    /// <summary>
    /// An engine of the given manifest and plan JSON text and the tensors of <paramref name="file"/>: the plan as given,
    /// the manifest's payloadSha256 recomputed (when it is an object) and the manifest's own hash recomputed.
    /// </summary>
    public static byte[] Seal(SafetensorsFile file, string manifestJson, string planJson)
    {
        var tensors = file.Tensors.Values.Select(e => new SafetensorsTensor(e.Name, e.DType, e.Shape, file.Data(e.Name))).ToList();
        if (JsonNode.Parse(manifestJson, documentOptions: new JsonDocumentOptions { MaxDepth = 4096 }) is JsonObject manifest)
        {
            manifest["payloadSha256"] = EnginePayloadHash.Compute(planJson, tensors.Select(t => (t.Name, t.DType, (IReadOnlyList<long>)t.Shape, t.Bytes)));
            manifestJson = manifest.ToJsonString(new JsonSerializerOptions { MaxDepth = 4096 });
        }
        return SafetensorsWriter.Write(tensors, new Dictionary<string, string>
        {
            [EngineFile.FormatKey] = EngineFile.FormatName,
            [EngineFile.ManifestKey] = manifestJson,
            [EngineFile.ManifestHashKey] = EngineFile.ManifestHash(manifestJson),
            [EngineFile.PlanKey] = planJson,
        });
    }

    /// <summary>A safetensors file of exactly this header text and payload, for headers no writer would produce.</summary>
    public static byte[] RawSafetensors(string header, byte[] payload)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + payload.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        payload.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }
}
