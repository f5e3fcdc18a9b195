using ModelBuild.Diagnostics;

namespace ModelBuild.Cli;

/// <summary>
/// Files modelc writes (engines, outputs, bench results): whole or not at all. The bytes go to a temporary file beside
/// the target, which is renamed into place; when the disk is full or the folder not writable, the temporary file is
/// removed and the error is MB4014 naming the target, so nothing half-written is ever left where a build would look.
/// </summary>
internal static class OutputFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                // Written through to the disk before the rename, so a crash after it cannot leave an empty file in place.
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
            throw new ModelBuildException(DiagnosticCodes.OutputWriteFailed, $"the file cannot be written: {e.Message}; nothing was left at this path.", path, e);
        }
    }
}
