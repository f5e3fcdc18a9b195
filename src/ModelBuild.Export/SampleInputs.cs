using ModelBuild.Export.Archives;
using ModelBuild.Export.Pickle;

namespace ModelBuild.Export;

/// <summary>The example inputs an archive keeps as a torch.save file of <c>(args, kwargs)</c>: only their shapes are read.</summary>
internal static class SampleInputs
{
    /// <summary>The shapes of the tensors in <c>args</c> then <c>kwargs</c>; null when the archive has no such entry.</summary>
    public static IReadOnlyList<IReadOnlyList<long>>? ReadShapes(ModelArchive archive, string entry, ModelReaderOptions options)
    {
        if (!archive.Contains(entry))
        {
            return null;
        }
        using var inner = archive.OpenNested(entry);
        var value = TorchSaveArchive.Load(inner, TorchSaveArchive.Prefix(inner), options);
        return TorchSaveArchive.Tensors(value).Select(t => (IReadOnlyList<long>)t.Layout.Sizes.ToArray()).ToList();
    }
}
