using System;
using System.IO;

namespace ModelBuild.Tasks;

/// <summary>Files written whole or not at all: into a temporary file beside the destination, then renamed into place.</summary>
internal static class AtomicFile
{
    public static string TempPath(string path) => $"{path}.{Guid.NewGuid():N}.tmp";

    /// <summary>rename(2): atomic, and the last writer of identical content wins.</summary>
    public static void Replace(string temp, string destination)
    {
        if (File.Exists(destination))
        {
            File.Replace(temp, destination, null);
        }
        else
        {
            try
            {
                File.Move(temp, destination);
            }
            catch (IOException) when (File.Exists(destination))
            {
                File.Replace(temp, destination, null);
            }
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Someone else holds or removed it; the entry is ignored either way.
        }
    }
}
