using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Export.Archives;
using ModelBuild.Export.Pickle;

namespace ModelBuild.Export.Pt2;

/// <summary>
/// The flat PT2 layout of PyTorch 2.7 and older: <c>serialized_exported_program.json</c> beside torch.save files
/// (<c>serialized_state_dict.pt</c>, <c>serialized_constants.pt</c>, <c>serialized_example_inputs.pt</c>) whose pickles
/// are read with the allow-listed <see cref="PickleReader"/>; their storages stay in the nested zips until a weight is read.
/// </summary>
public static class Pt2LegacyArchiveReader
{
    private const string ProgramEntry = "serialized_exported_program.json";

    internal static bool Recognizes(IReadOnlyList<string> entryNames) => entryNames.Any(e => Prefix(e) is not null);

    public static ModelGraph Read(string path, ModelReaderOptions? options = null)
    {
        options ??= ModelReaderOptions.Default;
        using var archive = ModelArchive.Open(path, options);
        return Read(archive, path, options);
    }

    internal static ModelGraph Read(ModelArchive archive, string path, ModelReaderOptions options)
    {
        var prefix = archive.EntryNames.Select(Prefix).First(p => p is not null)!;
        var program = ExportedProgramReader.Read(archive.Read(prefix + ProgramEntry), path);
        var stateDict = Tensors(archive, prefix + "serialized_state_dict.pt", options);
        var constants = Tensors(archive, prefix + "serialized_constants.pt", options);

        var weights = program.Weights.Select(spec =>
        {
            var (entry, tensor) = stateDict.Tensors.TryGetValue(spec.StateName, out var t) ? (stateDict.Entry, t)
                : constants.Tensors.TryGetValue(spec.StateName, out var c) ? (constants.Entry, c)
                : throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                    $"Weight '{spec.StateName}' is in neither serialized_state_dict.pt nor serialized_constants.pt; the archive is incomplete.", path);
            Pt2ArchiveReader.CheckMatches(tensor.Layout, spec, path);
            return new Weight(spec.ValueName, spec.StateName, spec.Kind, spec.Meta, () =>
            {
                using var outer = ModelArchive.Open(path, options);
                using var inner = outer.OpenNested(entry);
                return TorchSaveArchive.TensorBytes(inner, TorchSaveArchive.Prefix(inner), tensor, $"Weight '{spec.StateName}'");
            });
        }).ToList();

        var exampleShapes = SampleInputs.ReadShapes(archive, prefix + "serialized_example_inputs.pt", options);
        var source = new SourceInfo(Pt2ArchiveReader.Format, path, FileHash.Sha256(path), program.TorchVersion, program.SchemaVersion);
        return program.ToGraph(ModelName(path), source, weights, exampleShapes);
    }

    /// <summary>"model" for model.legacy.pt2: the file name up to its first dot.</summary>
    internal static string ModelName(string path)
    {
        var file = Path.GetFileName(path);
        var dot = file.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? file[..dot] : file;
    }

    /// <summary>"" or "folder/" when the entry is the program of a flat layout at the top or under one folder.</summary>
    private static string? Prefix(string entry) =>
        entry == ProgramEntry ? ""
        : entry.EndsWith("/" + ProgramEntry, StringComparison.Ordinal) && entry.Count(c => c == '/') == 1 ? entry[..^ProgramEntry.Length]
        : null;

    private sealed record TensorFile(string Entry, Dictionary<string, PickledTensor> Tensors);

    /// <summary>The named tensors of a torch.save'd dict; its storages are only checked, not read.</summary>
    private static TensorFile Tensors(ModelArchive archive, string entry, ModelReaderOptions options)
    {
        var tensors = new Dictionary<string, PickledTensor>(StringComparer.Ordinal);
        if (!archive.Contains(entry))
        {
            return new TensorFile(entry, tensors);
        }
        using var inner = archive.OpenNested(entry);
        var prefix = TorchSaveArchive.Prefix(inner);
        if (TorchSaveArchive.Load(inner, prefix, options) is not PickleDict dict)
        {
            throw new ModelBuildException(DiagnosticCodes.PickleMalformed, $"'{entry}' does not hold a dict of tensors.", archive.File);
        }
        foreach (var (key, value) in dict.Items)
        {
            if (key is string name && value is PickledTensor tensor)
            {
                TorchSaveArchive.CheckStorage(inner, prefix, tensor, $"Weight '{name}'");
                tensors[name] = tensor;
            }
        }
        return new TensorFile(entry, tensors);
    }
}
