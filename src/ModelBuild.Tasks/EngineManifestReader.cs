using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// Reads the manifest out of an engine's safetensors header without touching its weights: the 8-byte header
/// length, the JSON header, <c>__metadata__["manifest"]</c>. The task reads it in-process so that a cache hit
/// needs no modelc to generate the accessor.
/// </summary>
public static class EngineManifestReader
{
    private const long MaxHeaderBytes = 100_000_000;

    /// <exception cref="ModelBuildException">MB6012 when the file is not an engine with a manifest.</exception>
    public static EngineSignature Read(string enginePath)
    {
        try
        {
            using var stream = File.OpenRead(enginePath);
            var lengthBytes = ReadExactly(stream, 8);
            var headerLength = BitConverter.ToUInt64(lengthBytes, 0);
            if (!BitConverter.IsLittleEndian || headerLength > MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            {
                throw Unreadable(enginePath, $"its header length {headerLength} does not fit the file");
            }
            using var header = JsonDocument.Parse(ReadExactly(stream, (int)headerLength));
            if (!header.RootElement.TryGetProperty("__metadata__", out var metadata)
                || !metadata.TryGetProperty("manifest", out var manifestText) || manifestText.ValueKind != JsonValueKind.String)
            {
                throw Unreadable(enginePath, "its __metadata__ has no \"manifest\"");
            }
            using var manifest = JsonDocument.Parse(manifestText.GetString()!);
            return ToSignature(manifest.RootElement);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw Unreadable(enginePath, e.Message);
        }
    }

    private static EngineSignature ToSignature(JsonElement root)
    {
        var target = Get(root, "target");
        return new EngineSignature(
            Get(root, "name").GetString()!,
            Get(target, "device").GetString()!,
            Get(target, "precision").GetString()!,
            Tensors(Get(root, "inputs")),
            Tensors(Get(root, "outputs")),
            Get(root, "symbols").EnumerateObject().ToDictionary(
                p => p.Name,
                p => new EngineSymbolRange(Get(p.Value, "min").GetInt64(), Get(p.Value, "opt").GetInt64(), Get(p.Value, "max").GetInt64()),
                StringComparer.Ordinal),
            TryGet(root, "relations") is { ValueKind: JsonValueKind.Array } relations
                ? relations.EnumerateArray()
                    .GroupBy(r => Get(r, "expr").GetString()!, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => new EngineSymbolRange(Get(g.First(), "min").GetInt64(), 0, Get(g.First(), "max").GetInt64()), StringComparer.Ordinal)
                : new Dictionary<string, EngineSymbolRange>(),
            TryGet(root, "blocks") is { ValueKind: JsonValueKind.Array } blocks
                ? blocks.EnumerateArray().Select(b => Get(b, "backend").GetString()!).Distinct(StringComparer.Ordinal).ToList()
                : new List<string>());
    }

    private static List<EngineTensor> Tensors(JsonElement array) =>
        array.EnumerateArray().Select(t => new EngineTensor(
            Get(t, "name").GetString()!,
            Get(t, "dtype").GetString()!,
            Get(t, "dims").EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number ? d.GetRawText() : d.GetString()!).ToList())).ToList();

    /// <summary>Manifest names are camelCase; a reader that does not care about case survives a serializer setting.</summary>
    private static JsonElement Get(JsonElement element, string name) =>
        TryGet(element, name) ?? throw new KeyNotFoundException($"the manifest has no \"{name}\"");

    private static JsonElement? TryGet(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = stream.Read(buffer, read, count - read);
            if (n == 0)
            {
                throw new IOException($"the file ends after {read} of {count} bytes");
            }
            read += n;
        }
        return buffer;
    }

    private static ModelBuildException Unreadable(string enginePath, string why) =>
        new(DiagnosticCodes.EngineManifestUnreadable, $"the engine has no readable manifest ({why}); modelc and ModelBuild.Sdk must be of the same version.", enginePath);
}
