using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ModelBuild.Engine.Safetensors;

/// <summary>A tensor to write: name, dtype, shape and its raw little-endian bytes.</summary>
public sealed record SafetensorsTensor(string Name, TensorDType DType, long[] Shape, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Writes safetensors files that the reference implementation accepts: tensors packed without holes, ordered by
/// element size (largest first) then name, so that each one is naturally aligned once the header is padded to 8 bytes.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>The bytes of a safetensors file holding <paramref name="tensors"/> and, when given, a <c>__metadata__</c> string map.</summary>
    public static byte[] Write(IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderByDescending(t => t.DType.ElementSize()).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in ordered)
            {
                var expected = t.Shape.Aggregate(1L, (a, b) => a * b) * t.DType.ElementSize();
                if (expected != t.Bytes.Length)
                {
                    throw new ArgumentException($"tensor '{t.Name}' has {t.Bytes.Length} bytes, but its shape and dtype need {expected}.");
                }
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Bytes.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Bytes.Length;
            }
            json.WriteEndObject();
        }
        var headerBytes = header.ToArray();
        var padded = (headerBytes.Length + 7) / 8 * 8;
        var result = new byte[8 + padded + ordered.Sum(t => (long)t.Bytes.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        headerBytes.CopyTo(result, 8);
        Encoding.ASCII.GetBytes(new string(' ', padded - headerBytes.Length)).CopyTo(result, 8 + headerBytes.Length);
        var at = 8 + padded;
        foreach (var t in ordered)
        {
            t.Bytes.Span.CopyTo(result.AsSpan(at));
            at += t.Bytes.Length;
        }
        return result;
    }
}
