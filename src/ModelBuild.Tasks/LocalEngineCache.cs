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
    public bool TryRestore(string key, string destination, out string? problem)
    {
        problem = null;
        var actionPath = ActionPath(key);
        if (!File.Exists(actionPath))
        {
            return false;
        }
        var sha = ReadDigest(actionPath);
        if (sha is null)
        {
            problem = $"cache entry {actionPath} does not hold a SHA-256";
            AtomicFile.TryDelete(actionPath);
            return false;
        }
        var contentPath = ContentPath(sha);
        if (!File.Exists(contentPath))
        {
            problem = $"cache entry {actionPath} points to {contentPath}, which is missing";
            AtomicFile.TryDelete(actionPath);
            return false;
        }
        var temp = AtomicFile.TempPath(destination);
        try
        {
            string actual;
            using (var source = new FileStream(contentPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var sha256 = SHA256.Create())
            using (var hashing = new CryptoStream(target, sha256, CryptoStreamMode.Write))
            {
                source.CopyTo(hashing);
                hashing.FlushFinalBlock();
                actual = Sha256Hex.ToHex(sha256.Hash!);
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
    /// <exception cref="ModelBuildException">MB6014 when the folder cannot be written.</exception>
    public void Store(string key, string engineFile)
    {
        try
        {
            var sha = EngineCacheKey.HashFile(engineFile);
            var contentPath = ContentPath(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(contentPath)!);
            if (!File.Exists(contentPath))
            {
                var temp = AtomicFile.TempPath(contentPath);
                File.Copy(engineFile, temp);
                AtomicFile.Replace(temp, contentPath);
            }
            var actionPath = ActionPath(key);
            Directory.CreateDirectory(Path.GetDirectoryName(actionPath)!);
            var actionTemp = AtomicFile.TempPath(actionPath);
            File.WriteAllText(actionTemp, sha + "\n");
            AtomicFile.Replace(actionTemp, actionPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.CacheWriteFailed, $"could not store the engine in the cache: {e.Message}", Root, e);
        }
    }

    public string ActionPath(string key) => Path.Combine(Root, "ac", key);

    public string ContentPath(string sha256) => Path.Combine(Root, "cas", sha256);

    private static string? ReadDigest(string actionPath)
    {
        var text = File.ReadAllText(actionPath).Trim();
        return Sha256Hex.IsDigest(text) ? text : null;
    }
}
