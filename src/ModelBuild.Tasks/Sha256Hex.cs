using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace ModelBuild.Tasks;

/// <summary>SHA-256 as lowercase hex, the spelling of cache keys and manifests.</summary>
internal static class Sha256Hex
{
    public static string Of(byte[] bytes)
    {
        using var sha = SHA256.Create();
        return ToHex(sha.ComputeHash(bytes));
    }

    public static string Of(Stream stream)
    {
        using var sha = SHA256.Create();
        return ToHex(sha.ComputeHash(stream));
    }

    public static string ToHex(byte[] hash)
    {
        var text = new StringBuilder(hash.Length * 2);
        foreach (var b in hash)
        {
            text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>64 lowercase hex digits.</summary>
    public static bool IsDigest(string text)
    {
        if (text.Length != 64)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            {
                return false;
            }
        }
        return true;
    }
}
