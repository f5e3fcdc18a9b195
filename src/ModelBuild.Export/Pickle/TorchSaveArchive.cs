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
                "The torch.save archive has no single '<folder>/data.pkl' entry.", archive.File);
    }

    /// <summary>Unpickles <c>&lt;prefix&gt;/&lt;name&gt;</c> with the allow-list of <see cref="PickleReader"/>.</summary>
    public static object? Load(ModelArchive archive, string prefix, string name = "data.pkl", bool allowTorchScriptClasses = false)
    {
        Pt2ArchiveReader.CheckByteOrder(archive, $"{prefix}/byteorder");
        return PickleReader.Load(archive.Read($"{prefix}/{name}"), $"{archive.File}:{prefix}/{name}", allowTorchScriptClasses);
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
            $"{what} is stored in '{entry}', which the archive lacks.", archive.File);
        var needed = tensor.Layout.StorageBytesNeeded;
        if (needed > length)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"{what} needs {needed} bytes for its sizes, strides and offset, but '{entry}' holds {length}.", archive.File);
        }
    }

    /// <summary>The one tensor a torch.save file holds (PT2 weights written with use_pickle).</summary>
    public static ReadOnlyMemory<byte> ReadSingleTensor(byte[] zip, string file, ModelReaderOptions options)
    {
        using var archive = ModelArchive.Open(zip, file, options);
        var prefix = Prefix(archive);
        var tensor = Load(archive, prefix) as PickledTensor ?? throw new ModelBuildException(DiagnosticCodes.PickleMalformed,
            "The pickled weight is not a tensor.", file);
        return TensorBytes(archive, prefix, tensor, "The pickled weight");
    }

    /// <summary>Every tensor in a pickled structure (tuples, lists, dict values), in order.</summary>
    public static IEnumerable<PickledTensor> Tensors(object? value)
    {
        switch (value)
        {
            case PickledTensor t:
                yield return t;
                break;
            case PickleTuple tuple:
                foreach (var t in tuple.Items.SelectMany(Tensors))
                {
                    yield return t;
                }
                break;
            case List<object?> list:
                foreach (var t in list.SelectMany(Tensors))
                {
                    yield return t;
                }
                break;
            case PickleDict dict:
                foreach (var t in dict.Items.SelectMany(p => Tensors(p.Value)))
                {
                    yield return t;
                }
                break;
        }
    }
}
