using System;
using System.IO;
using System.Security.Cryptography;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// A content-addressed engine cache in a local folder, laid out like the Bazel remote cache: <c>ac/&lt;key&gt;</c>
/// holds the SHA-256 of the engine, <c>cas/&lt;sha256&gt;</c> its bytes. Writes go to a temporary file and are renamed
/// into place, so a reader never sees half an entry; reads verify the hash, and a bad entry is a miss
/// (reported, removed), never an input.
/// </summary>
public sealed class LocalEngineCache
{
    public LocalEngineCache(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    /// <summary>Copies the engine cached under <paramref name="key"/> to <paramref name="destination"/>.</summary>
    /// <param name="problem">why an entry that exists was not used (an MB6013 warning), or null.</param>
    /// <returns>true on a verified hit.</returns>
    /// <exception cref="ModelBuildException">MB4014 when the destination cannot be written (a full disk): nothing is left there.</exception>
    public bool TryRestore(string key, string destination, out string? problem)
    {
        problem = null;
        var actionPath = ActionPath(key);
        var sha = ReadDigest(actionPath, out var exists);
        if (!exists)
        {
            return false;
        }
        if (sha is null)
        {
            problem = $"cache entry {actionPath} does not hold a SHA-256";
            AtomicFile.TryDelete(actionPath);
            return false;
        }
        var contentPath = ContentPath(sha);
        FileStream source;
        try
        {
            source = new FileStream(contentPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cache entry {actionPath} points to {contentPath}, which is missing or unreadable ({e.Message})";
            AtomicFile.TryDelete(actionPath);
            return false;
        }
        var temp = AtomicFile.TempPath(destination);
        try
        {
            string actual;
            using (source)
            {
                actual = CopyHashing(source, temp, destination);
            }
            if (!string.Equals(actual, sha, StringComparison.Ordinal))
            {
                problem = $"cache content {contentPath} has SHA-256 {actual}, expected {sha}";
                AtomicFile.TryDelete(contentPath);
                AtomicFile.TryDelete(actionPath);
                return false;
            }
            AtomicFile.Replace(temp, destination);
            return true;
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    /// <summary>Stores <paramref name="engineFile"/> under <paramref name="key"/>; content first, then the key that points to it.</summary>
    /// <exception cref="ModelBuildException">MB6014 when the folder cannot be written; no temporary file is left behind.</exception>
    public void Store(string key, string engineFile)
    {
        string? temp = null;
        try
        {
            var sha = EngineCacheKey.HashFile(engineFile);
            var contentPath = ContentPath(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(contentPath)!);
            if (!File.Exists(contentPath))
            {
                temp = AtomicFile.TempPath(contentPath);
                File.Copy(engineFile, temp);
                AtomicFile.Replace(temp, contentPath);
            }
            var actionPath = ActionPath(key);
            Directory.CreateDirectory(Path.GetDirectoryName(actionPath)!);
            temp = AtomicFile.TempPath(actionPath);
            File.WriteAllText(temp, sha + "\n");
            AtomicFile.Replace(temp, actionPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.CacheWriteFailed, $"could not store the engine in the cache: {e.Message}", Root, e);
        }
        finally
        {
            if (temp is not null)
            {
                AtomicFile.TryDelete(temp);
            }
        }
    }

    public string ActionPath(string key) => Path.Combine(Root, "ac", key);

    public string ContentPath(string sha256) => Path.Combine(Root, "cas", sha256);

    /// <summary>The digest an action entry holds; null when it holds none. <paramref name="exists"/> is false when there is no entry (or another build just removed it).</summary>
    private static string? ReadDigest(string actionPath, out bool exists)
    {
        try
        {
            var text = File.ReadAllText(actionPath).Trim();
            exists = true;
            return Sha256Hex.IsDigest(text) ? text : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            exists = false;
            return null;
        }
    }

    /// <summary>Copies into a new <paramref name="temp"/>, returning the SHA-256 of what was copied; a write that fails is MB4014.</summary>
    private static string CopyHashing(Stream source, string temp, string destination)
    {
        try
        {
            using var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            using var sha256 = SHA256.Create();
            using var hashing = new CryptoStream(target, sha256, CryptoStreamMode.Write);
            source.CopyTo(hashing);
            hashing.FlushFinalBlock();
            return Sha256Hex.ToHex(sha256.Hash!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.OutputWriteFailed,
                $"the cached engine could not be copied here: {e.Message}; nothing was left at this path.", destination, e);
        }
    }
}
