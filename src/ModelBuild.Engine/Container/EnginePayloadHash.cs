using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Engine.Container;

/// <summary>
/// The SHA-256 an engine's manifest records over its payload (docs/engine-format.md): the UTF-8 bytes of the plan
/// JSON, then for every tensor in ordinal order of its name: the name's UTF-8 bytes, a 0 byte, the dtype name, a 0
/// byte, the shape as decimal numbers joined by commas, a 0 byte, and the SHA-256 of every <see cref="ChunkBytes"/>
/// chunk of the tensor's raw bytes in order (32 bytes each; none for an empty tensor).
/// </summary>
/// <remarks>
/// Hashing the bytes whole is sequential, about 1.5 GB/s on one core, and was most of the engine check at load
/// (docs/benchmarks.md). The chunks' digests are independent, so engines of a megabyte or more hash them on every
/// processor; the result still depends on every byte through SHA-256 alone, so it stays collision-resistant.
/// </remarks>
public static class EnginePayloadHash
{
    /// <summary>The size of the chunks whose digests are hashed in place of a tensor's bytes.</summary>
    public const int ChunkBytes = 256 * 1024;

    // Below this many tensor bytes, starting pool threads costs more than hashing on one.
    private const long ParallelBytes = 1024 * 1024;

    /// <summary>The payload's SHA-256 (lowercase hex).</summary>
    /// <param name="planJson">the plan exactly as stored in the engine.</param>
    /// <param name="tensors">every tensor of the engine, in any order.</param>
    public static string Compute(string planJson, IEnumerable<(string Name, TensorDType DType, IReadOnlyList<long> Shape, ReadOnlyMemory<byte> Bytes)> tensors) =>
        Compute(Encoding.UTF8.GetBytes(planJson), tensors);

    /// <summary>The payload's SHA-256 (lowercase hex), the plan given as its UTF-8 bytes (a reader that also parses them encodes them once).</summary>
    /// <param name="planUtf8">the plan exactly as stored in the engine, UTF-8.</param>
    /// <param name="tensors">every tensor of the engine, in any order.</param>
    public static string Compute(ReadOnlySpan<byte> planUtf8, IEnumerable<(string Name, TensorDType DType, IReadOnlyList<long> Shape, ReadOnlyMemory<byte> Bytes)> tensors)
    {
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        var chunks = new List<ReadOnlyMemory<byte>>();
        var firstChunk = new int[ordered.Length + 1];
        long total = 0;
        for (var t = 0; t < ordered.Length; t++)
        {
            firstChunk[t] = chunks.Count;
            var bytes = ordered[t].Bytes;
            total += bytes.Length;
            for (var offset = 0; offset < bytes.Length; offset += ChunkBytes)
            {
                chunks.Add(bytes.Slice(offset, Math.Min(ChunkBytes, bytes.Length - offset)));
            }
        }
        firstChunk[ordered.Length] = chunks.Count;

        var digests = new byte[chunks.Count * SHA256.HashSizeInBytes];
        void HashChunk(int i) => SHA256.HashData(chunks[i].Span, digests.AsSpan(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes));
        if (total >= ParallelBytes && chunks.Count > 1)
        {
            Parallel.For(0, chunks.Count, HashChunk);
        }
        else
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                HashChunk(i);
            }
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(planUtf8);
        byte[] zero = [0];
        for (var t = 0; t < ordered.Length; t++)
        {
            var (name, dtype, shape, _) = ordered[t];
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            sha.AppendData(zero);
            sha.AppendData(Encoding.UTF8.GetBytes(dtype.ToString()));
            sha.AppendData(zero);
            sha.AppendData(Encoding.UTF8.GetBytes(string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))));
            sha.AppendData(zero);
            sha.AppendData(digests.AsSpan(firstChunk[t] * SHA256.HashSizeInBytes, (firstChunk[t + 1] - firstChunk[t]) * SHA256.HashSizeInBytes));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
