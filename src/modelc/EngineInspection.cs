using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc inspect</c> of an engine: its manifest (what it was compiled from and for, every symbol's min/opt/max,
/// the relations, the validated cases and their errors), its plan's blocks (which backend runs how many nodes) and the
/// op histogram of the blocks that keep their nodes. The payload hash is checked as at load, so what is shown is what
/// the runtime would run.
/// </summary>
internal static class EngineInspection
{
    /// <summary>
    /// Whether the file is a ModelBuild engine: a safetensors header whose metadata names the engine format. Only the
    /// header is read, so that a model of gigabytes is not read whole to find out that it is none.
    /// </summary>
    public static bool IsEngine(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var length = new byte[8];
            if (stream.ReadAtLeast(length, 8, throwOnEndOfStream: false) < 8)
            {
                return false;
            }
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(length);
            if (headerLength > SafetensorsFile.MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            {
                return false;
            }
            var header = new byte[headerLength];
            stream.ReadExactly(header);
            using var doc = JsonDocument.Parse(header);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("__metadata__", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty(EngineFile.FormatKey, out var format) && format.ValueKind == JsonValueKind.String
                && format.GetString() == EngineFile.FormatName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    public static string Json(EngineFile engine, string path)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = InspectCommand.JsonSchemaVersion,
            ["file"] = path,
            ["format"] = EngineFile.FormatName,
            ["manifest"] = JsonSerializer.SerializeToNode(engine.Manifest, EngineJson.Options),
            ["ops"] = new JsonObject(Histogram(engine).Select(h => KeyValuePair.Create(h.Op, (JsonNode?)h.Count))),
            ["weights"] = new JsonObject
            {
                ["count"] = Weights(engine).Count,
                ["bytes"] = Weights(engine).Sum(w => engine.Tensors.Tensors[w].End - engine.Tensors.Tensors[w].Begin),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine;
    }

    public static string Text(EngineFile engine, string path)
    {
        var m = engine.Manifest;
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(path);
        sb.AppendLine(ci, $"  engine   '{m.Name}', schema {m.SchemaVersion}, for runtimes {m.RuntimeVersions}");
        sb.AppendLine(ci, $"  source   {m.Source.Format} {Path.GetFileName(m.Source.File)} (sha256 {m.Source.Sha256[..Math.Min(12, m.Source.Sha256.Length)]}…, torch {m.Source.TorchVersion ?? "?"})");
        sb.AppendLine(ci, $"  target   {m.Target.Device}{(m.Target.ComputeCapability is { } cc ? $" sm {cc}" : "")} {m.Target.Precision}");
        sb.AppendLine(ci, $"  built by ModelBuild {m.Toolchain.ModelBuild}, TorchSharp {m.Toolchain.TorchSharp}, libtorch {m.Toolchain.LibTorch}");
        sb.AppendLine("inputs");
        foreach (var t in m.Inputs)
        {
            sb.AppendLine(ci, $"  {t.Name,-12} {t.DType,-5} [{string.Join(", ", t.Dims)}]");
        }
        sb.AppendLine("outputs");
        foreach (var t in m.Outputs)
        {
            sb.AppendLine(ci, $"  {t.Name,-12} {t.DType,-5} [{string.Join(", ", t.Dims)}]");
        }
        if (m.MutatedInputs.Count > 0)
        {
            sb.AppendLine(ci, $"writes its inputs in place: {string.Join(", ", m.MutatedInputs)}");
        }
        sb.AppendLine("symbols (min..opt..max)");
        foreach (var (name, s) in m.Symbols.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            sb.AppendLine(ci, $"  {name,-12} {s.Min}..{s.Opt}..{s.Max}");
        }
        if (m.Symbols.Count == 0)
        {
            sb.AppendLine("  (none: every dim is static)");
        }
        if (m.Relations.Count > 0)
        {
            sb.AppendLine("relations");
            foreach (var r in m.Relations)
            {
                sb.AppendLine(ci, $"  {r.Expr,-12} {r.Min}..{r.Max}");
            }
        }
        sb.AppendLine("validated");
        foreach (var v in m.Validation)
        {
            var shapes = string.Join(" ", v.InputShapes.Select(s => $"[{string.Join(", ", s)}]"));
            sb.AppendLine(ci, $"  {v.Name,-8} {shapes,-24} scaled error {v.ScaledError:G3} (tolerance {v.Tolerance:G3}), cosine {v.CosineSimilarity:G6}, max abs {v.MaxAbsError:G3}, max rel {v.MaxRelError:G3}");
        }
        if (m.BackendSelection is { } selection)
        {
            sb.AppendLine(ci, $"backend  {selection.Chosen} (asked: {selection.Requested}; {string.Join(", ", selection.Candidates.Select(c => $"{c.Backend} {(c.OptMicroseconds is { } us ? us.ToString("F0", ci) + " us at opt" : "not measured")}"))})");
        }
        var blocks = engine.Plan.Blocks;
        sb.AppendLine(ci, $"plan: {blocks.Count} block{(blocks.Count == 1 ? "" : "s")}, {blocks.Sum(b => b.OpCount)} nodes, {Weights(engine).Count} weights");
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var payload = block.Payload is { } p ? string.Create(ci, $", payload {engine.Tensors.Tensors[p].End - engine.Tensors.Tensors[p].Begin} bytes") : "";
            var threads = block.Threads is { } t ? string.Create(ci, $", {t} thread{(t == 1 ? "" : "s")}") : "";
            sb.AppendLine(ci, $"  block {b}: {block.Backend,-11} {block.OpCount,4} nodes{payload}{threads}, in ({Names(block.Inputs)}) -> out ({Names(block.Outputs)})");
        }
        sb.AppendLine("ops");
        foreach (var (op, count) in Histogram(engine))
        {
            sb.AppendLine(ci, $"  {count,4}  {op}");
        }
        return sb.ToString();
    }

    private static string Names(IReadOnlyList<string> names) =>
        names.Count <= 4 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(3))}, ... {names.Count - 3} more";

    private static HashSet<string> Weights(EngineFile engine) => engine.Plan.Blocks.SelectMany(b => b.Weights).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<(string Op, int Count)> Histogram(EngineFile engine) =>
        engine.Plan.Blocks.SelectMany(b => b.Nodes ?? []).GroupBy(n => n.Target, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())).OrderByDescending(h => h.Item2).ThenBy(h => h.Key, StringComparer.Ordinal);
}
