using ModelBuild.Diagnostics;
using ModelBuild.Export.Archives;
using ModelBuild.Export.Pt2;

namespace ModelBuild.Export.Pickle;

/// <summary>
/// A <c>torch.save</c> zip (also the body of a TorchScript archive): <c>&lt;prefix&gt;/data.pkl</c> holds the object,
/// whose tensors name storages kept raw in <c>&lt;prefix&gt;/data/&lt;key&gt;</c>.
/// </summary>
internal static class TorchSaveArchive
{
    /// <summary>The folder that holds <c>data.pkl</c> (torch.save writes <c>archive/</c>, TorchScript the model's name).</summary>
    public static string Prefix(ModelArchive archive)
    {
        var pickle = archive.EntryNames.Where(e => e.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Count(c => c == '/') == 1).ToList();
        return pickle.Count == 1
            ? pickle[0][..^"/data.pkl".Length]
            : throw new ModelBuildException(DiagnosticCodes.ArchiveEntryMissing,
                $"The torch.save archive{(archive.Within is null ? "" : $" '{archive.Within}'")} has no single '<folder>/data.pkl' entry.", archive.File);
    }

    /// <summary>Unpickles <c>&lt;prefix&gt;/&lt;name&gt;</c> with the allow-list of <see cref="PickleReader"/>.</summary>
    public static object? Load(ModelArchive archive, string prefix, ModelReaderOptions options, string name = "data.pkl", bool allowTorchScriptClasses = false)
    {
        Pt2ArchiveReader.CheckByteOrder(archive, $"{prefix}/byteorder");
        return PickleReader.Load(archive.Read($"{prefix}/{name}"), archive.File, archive.EntryPath($"{prefix}/{name}"), options.MaxPickleValues, allowTorchScriptClasses);
    }

    /// <summary>The contiguous bytes of a pickled tensor, read from its storage entry.</summary>
    public static ReadOnlyMemory<byte> TensorBytes(ModelArchive archive, string prefix, PickledTensor tensor, string what, string folder = "data")
    {
        var storage = archive.Read($"{prefix}/{folder}/{tensor.Storage.Key}");
        return tensor.Layout.ToContiguous(storage, what, archive.File);
    }

    /// <summary>Checks, without reading it, that a tensor's storage entry exists and covers the tensor.</summary>
    public static void CheckStorage(ModelArchive archive, string prefix, PickledTensor tensor, string what, string folder = "data")
    {
        var entry = $"{prefix}/{folder}/{tensor.Storage.Key}";
        var length = archive.EntryLength(entry) ?? throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
            $"{what} is stored in '{archive.EntryPath(entry)}', which the archive lacks.", archive.File);
        var needed = tensor.Layout.StorageBytesNeeded;
        if (needed > length)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"{what} needs {needed} bytes for its sizes, strides and offset, but '{archive.EntryPath(entry)}' holds {length}.", archive.File);
        }
    }

    /// <summary>The one tensor the torch.save file in entry <paramref name="entry"/> holds (PT2 weights written with use_pickle).</summary>
    public static ReadOnlyMemory<byte> ReadSingleTensor(ModelArchive outer, string entry, ModelReaderOptions options)
    {
        using var archive = outer.OpenNested(entry);
        var prefix = Prefix(archive);
        var tensor = Load(archive, prefix, options) as PickledTensor ?? throw new ModelBuildException(DiagnosticCodes.PickleMalformed,
            $"The pickled weight in '{archive.Within}' is not a tensor.", archive.File);
        return TensorBytes(archive, prefix, tensor, "The pickled weight");
    }

    /// <summary>
    /// Every tensor in a pickled structure (tuples, lists, dict values), depth first in order. Walked with a stack and
    /// each container once: through the memo a pickle can build a container that holds itself, nest a million deep,
    /// or hold one list twice at every level.
    /// </summary>
    public static IEnumerable<PickledTensor> Tensors(object? value)
    {
        var pending = new Stack<object?>();
        pending.Push(value);
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (next is PickledTensor tensor)
            {
                yield return tensor;
                continue;
            }
            var children = next switch
            {
                PickleTuple tuple when seen.Add(tuple) => tuple.Items,
                List<object?> list when seen.Add(list) => list,
                PickleDict dict when seen.Add(dict) => dict.Items.Select(p => p.Value).ToList(),
                _ => [],
            };
            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }
    }
}
