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

    /// <summary>Lower-case hex SHA-256 of bytes held in memory.</summary>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
