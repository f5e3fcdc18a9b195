using System.Security.Cryptography;

namespace ModelBuild.Export;

internal static class FileHash
{
    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
