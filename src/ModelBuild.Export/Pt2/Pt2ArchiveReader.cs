using System.Text.Json;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Export.Archives;
using ModelBuild.Export.Pickle;

namespace ModelBuild.Export.Pt2;

/// <summary>
/// The PT2 archive of <c>torch.export.save</c> in its current layout: one root folder holding
/// <c>models/&lt;name&gt;.json</c> (the program), raw weight storages in <c>data/weights/</c> and
/// <c>data/constants/</c> described by <c>&lt;name&gt;_weights_config.json</c> and <c>&lt;name&gt;_constants_config.json</c>,
/// and the example inputs in <c>data/sample_inputs/&lt;name&gt;.pt</c>.
/// </summary>
public static class Pt2ArchiveReader
{
    public const string Format = "pt2";

    /// <summary>True when the archive's entries have this layout.</summary>
    internal static bool Recognizes(IReadOnlyList<string> entryNames) => entryNames.Any(IsProgramEntry);

    public static ModelGraph Read(string path, ModelReaderOptions? options = null)
    {
        options ??= ModelReaderOptions.Default;
        using var archive = ModelArchive.Open(path, options);
        return Read(archive, path, options);
    }

    internal static ModelGraph Read(ModelArchive archive, string path, ModelReaderOptions options) =>
        Read(archive, path, FileHash.Sha256(path), () => ModelArchive.Open(path, options), options);

    /// <summary>Reads the open archive; weights are read later from the archive <paramref name="reopen"/> gives.</summary>
    internal static ModelGraph Read(ModelArchive archive, string path, string sha256, Func<ModelArchive> reopen, ModelReaderOptions options)
    {
        var (root, name) = ChooseProgram(archive);
        CheckByteOrder(archive, $"{root}/byteorder");

        var program = ExportedProgramReader.Read(archive.Read($"{root}/models/{name}.json"), path);
        var weightsConfig = ReadConfig(archive, $"{root}/data/weights/{name}_weights_config.json");
        var constantsConfig = ReadConfig(archive, $"{root}/data/constants/{name}_constants_config.json");

        var weights = program.Weights.Select(spec =>
        {
            var (folder, config) = weightsConfig.TryGetValue(spec.StateName, out var w) ? ("weights", w)
                : constantsConfig.TryGetValue(spec.StateName, out var c) ? ("constants", c)
                : throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                    $"Weight '{spec.StateName}' is not in {name}_weights_config.json or {name}_constants_config.json; the archive is incomplete.", path);
            return StoredWeight(archive, path, reopen, options, $"{root}/data/{folder}/{config.PathName}", config, spec);
        }).ToList();

        var exampleShapes = SampleInputs.ReadShapes(archive, $"{root}/data/sample_inputs/{name}.pt", options);
        var source = new SourceInfo(Format, path, sha256, program.TorchVersion, program.SchemaVersion);
        return program.ToGraph(name, source, weights, exampleShapes);
    }

    internal static void CheckByteOrder(ModelArchive archive, string entry)
    {
        if (archive.Contains(entry))
        {
            var order = archive.ReadShortText(entry, 16);
            if (order != "little")
            {
                throw new ModelBuildException(DiagnosticCodes.ByteOrderUnsupported,
                    $"The archive's data is stored {order ?? "in no byte order it names"}-endian ('{archive.EntryPath(entry)}'); ModelBuild reads little-endian archives only.", archive.File);
            }
        }
    }

    private static bool IsProgramEntry(string entry)
    {
        var parts = entry.Split('/');
        return parts.Length == 3 && parts[1] == "models" && parts[2].EndsWith(".json", StringComparison.Ordinal) && parts[2].Length > 5;
    }

    private static (string Root, string Name) ChooseProgram(ModelArchive archive)
    {
        var programs = archive.EntryNames.Where(IsProgramEntry).Select(e => e.Split('/')).ToList();
        if (programs.Count == 1)
        {
            return (programs[0][0], programs[0][2][..^5]);
        }
        var model = programs.FirstOrDefault(p => p[2] == "model.json");
        return model is not null
            ? (model[0], "model")
            : throw new ModelBuildException(DiagnosticCodes.ArchiveAmbiguous,
                $"The archive holds {programs.Count} programs ({string.Join(", ", programs.Select(p => p[2][..^5]))}) and none is named 'model'; ModelBuild reads one program per archive.", archive.File);
    }

    private sealed record WeightConfig(string PathName, bool UsePickle, JsonElement TensorMeta);

    private static Dictionary<string, WeightConfig> ReadConfig(ModelArchive archive, string entry)
    {
        var result = new Dictionary<string, WeightConfig>(StringComparer.Ordinal);
        if (!archive.Contains(entry))
        {
            return result;
        }
        try
        {
            using var doc = JsonDocument.Parse(archive.Read(entry));
            if (!doc.RootElement.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException("no 'config' object");
            }
            foreach (var item in config.EnumerateObject())
            {
                var usePickle = item.Value.TryGetProperty("use_pickle", out var p) && p.ValueKind == JsonValueKind.True;
                var pathName = item.Value.GetProperty("path_name");
                result[item.Name] = new WeightConfig(
                    pathName.ValueKind == JsonValueKind.String ? pathName.GetString()! : throw new InvalidOperationException($"'{item.Name}' has no string path_name"),
                    usePickle,
                    item.Value.GetProperty("tensor_meta").Clone());
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"'{entry}' is not a valid weights config: {e.Message}", archive.File, e);
        }
    }

    private static Weight StoredWeight(ModelArchive archive, string path, Func<ModelArchive> reopen, ModelReaderOptions options, string entry, WeightConfig config, WeightSpec spec)
    {
        var what = $"Weight '{spec.StateName}'";
        if (archive.EntryLength(entry) is not long length)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch, $"{what} should be stored in '{entry}', which the archive lacks.", path);
        }
        if (config.UsePickle)
        {
            return new Weight(spec.ValueName, spec.StateName, spec.Kind, spec.Meta, () =>
            {
                using var a = reopen();
                return TorchSaveArchive.ReadSingleTensor(a, entry, options);
            });
        }
        var stored = ExportedProgramReader.ReadStoredTensor(config.TensorMeta, $"weight '{spec.StateName}'", path);
        CheckMatches(stored, spec, path);
        var needed = stored.StorageBytesNeeded;
        if (needed > length)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"{what} needs {needed} bytes for its sizes, strides and offset, but '{entry}' holds {length}.", path);
        }
        return new Weight(spec.ValueName, spec.StateName, spec.Kind, spec.Meta, () =>
        {
            using var a = reopen();
            return stored.ToContiguous(a.Read(entry), what, path);
        });
    }

    /// <summary>The stored tensor must be the one the graph declares.</summary>
    internal static void CheckMatches(StoredTensor stored, WeightSpec spec, string path)
    {
        if (stored.DType != spec.Meta.DType || !stored.Sizes.SequenceEqual(spec.Meta.Sizes.Select(d => d.Value!.Value)))
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"Weight '{spec.StateName}' is stored as {stored.DType}[{string.Join(", ", stored.Sizes)}] but the graph declares {spec.Meta.DType}[{string.Join(", ", spec.Meta.Sizes)}].", path);
        }
    }
}
