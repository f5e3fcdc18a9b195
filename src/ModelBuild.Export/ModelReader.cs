using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Export.Archives;
using ModelBuild.Export.Onnx;
using ModelBuild.Export.Pt2;
using ModelBuild.Export.TorchScript;

namespace ModelBuild.Export;

/// <summary>Reads any model file ModelBuild knows into the graph IR, choosing the front end by the file's content.</summary>
public static class ModelReader
{
    public static ModelGraph Read(string path) => Read(path, ModelReaderOptions.Default);

    public static ModelGraph Read(string path, ModelReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(path))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelFileNotFound, "The model file does not exist.", path);
        }
        var head = Head(path);
        // An ONNX ModelProto starts with field 1 (ir_version) as a varint: tag byte 0x08.
        if (head.Length > 0 && head[0] == 0x08)
        {
            return OnnxReader.Read(path, options);
        }
        if (!head.AsSpan().StartsWith("PK\u0003\u0004"u8))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelFormatUnknown,
                "The file is not a model ModelBuild reads: expected a PT2 archive (torch.export.save), TorchScript (torch.jit.save) or ONNX.", path);
        }
        using var archive = ModelArchive.Open(path, options);
        if (Pt2ArchiveReader.Recognizes(archive.EntryNames))
        {
            return Pt2ArchiveReader.Read(archive, path, options);
        }
        if (Pt2LegacyArchiveReader.Recognizes(archive.EntryNames))
        {
            return Pt2LegacyArchiveReader.Read(archive, path, options);
        }
        if (TorchScriptReader.Recognizes(archive.EntryNames))
        {
            return TorchScriptReader.Read(archive, path, options);
        }
        throw new ModelBuildException(DiagnosticCodes.ModelFormatUnknown,
            "The zip archive is neither a PT2 archive (no '<root>/models/<name>.json' or 'serialized_exported_program.json') nor TorchScript (no 'code/' and 'data.pkl').", path);
    }

    /// <summary>
    /// Reads a PT2 archive (torch.export.save, current layout) held in memory, such as one program of a bigger archive;
    /// <paramref name="name"/> stands for its path in the graph's source and in messages.
    /// </summary>
    public static ModelGraph Read(ReadOnlyMemory<byte> bytes, string name, ModelReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= ModelReaderOptions.Default;
        using var archive = ModelArchive.Open(bytes, name, options);
        if (!Pt2ArchiveReader.Recognizes(archive.EntryNames))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelFormatUnknown,
                "Archives in memory are read as PT2 archives of torch.export.save, but this one has no '<root>/models/<name>.json'.", name);
        }
        return Pt2ArchiveReader.Read(archive, name, FileHash.Sha256(bytes.Span), () => ModelArchive.Open(bytes, name, options), options);
    }

    private static byte[] Head(string path)
    {
        var head = new byte[4];
        try
        {
            using var stream = File.OpenRead(path);
            return head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.ModelFileNotFound, $"The model file cannot be opened: {e.Message}", path, e);
        }
    }
}
