using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Engine.Container;

/// <summary>
/// The SHA-256 an engine's manifest records over its payload (docs/engine-format.md): the UTF-8 bytes of the plan
/// JSON, then for every tensor in ordinal order of its name: the name's UTF-8 bytes, a 0 byte, the dtype name, a 0
/// byte, the shape as decimal numbers joined by commas, a 0 byte, and the tensor's raw bytes.
/// </summary>
public static class EnginePayloadHash
{
    /// <summary>The payload's SHA-256 (lowercase hex).</summary>
    /// <param name="planJson">the plan exactly as stored in the engine.</param>
    /// <param name="tensors">every tensor of the engine, in any order.</param>
    public static string Compute(string planJson, IEnumerable<(string Name, TensorDType DType, IReadOnlyList<long> Shape, ReadOnlyMemory<byte> Bytes)> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(planJson));
        byte[] zero = [0];
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(t.Name));
            sha.AppendData(zero);
            sha.AppendData(Encoding.UTF8.GetBytes(t.DType.ToString()));
            sha.AppendData(zero);
            sha.AppendData(Encoding.UTF8.GetBytes(string.Join(",", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))));
            sha.AppendData(zero);
            sha.AppendData(t.Bytes.Span);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
