using System;
using System.IO;
using System.Text;

namespace ModelBuild.Tasks;

/// <summary>
/// The remote action-cache entry of an engine: a Bazel REAPI <c>ActionResult</c> (build.bazel.remote.execution.v2)
/// with one output file, <see cref="EnginePath"/>, whose digest names the engine's CAS blob. Protobuf rather than
/// a format of our own, so that bazel-remote accepts the entry with its default AC validation; the three messages
/// involved are small enough to write by hand (field numbers from remote_execution.proto).
/// </summary>
internal static class ActionResultCodec
{
    public const string EnginePath = "engine";

    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    // ActionResult.output_files = 2; OutputFile.path = 1, .digest = 2; Digest.hash = 1, .size_bytes = 2.
    private const int OutputFiles = 2;
    private const int OutputFilePath = 1;
    private const int OutputFileDigest = 2;
    private const int DigestHash = 1;
    private const int DigestSize = 2;

    public static byte[] Encode(string sha256, long size)
    {
        var digest = new MemoryStream();
        WriteBytes(digest, DigestHash, Encoding.ASCII.GetBytes(sha256));
        WriteTag(digest, DigestSize, WireVarint);
        WriteVarint(digest, (ulong)size);
        var file = new MemoryStream();
        WriteBytes(file, OutputFilePath, Encoding.UTF8.GetBytes(EnginePath));
        WriteBytes(file, OutputFileDigest, digest.ToArray());
        var result = new MemoryStream();
        WriteBytes(result, OutputFiles, file.ToArray());
        return result.ToArray();
    }

    /// <summary>The digest of the <see cref="EnginePath"/> output; false when the bytes are no such ActionResult.</summary>
    public static bool TryDecode(byte[] bytes, out string sha256, out long size)
    {
        sha256 = "";
        size = -1;
        try
        {
            foreach (var (field, file) in LengthDelimitedFields(new ArraySegment<byte>(bytes)))
            {
                if (field != OutputFiles)
                {
                    continue;
                }
                string? path = null;
                ArraySegment<byte>? digest = null;
                foreach (var (fileField, value) in LengthDelimitedFields(file))
                {
                    if (fileField == OutputFilePath)
                    {
                        path = Encoding.UTF8.GetString(value.Array!, value.Offset, value.Count);
                    }
                    else if (fileField == OutputFileDigest)
                    {
                        digest = value;
                    }
                }
                if (path == EnginePath && digest is { } d && TryDecodeDigest(d, out sha256, out size))
                {
                    return true;
                }
            }
        }
        catch (FormatException)
        {
        }
        sha256 = "";
        size = -1;
        return false;
    }

    private static bool TryDecodeDigest(ArraySegment<byte> digest, out string sha256, out long size)
    {
        sha256 = "";
        size = 0;
        var reader = new Reader(digest);
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.Tag();
            if (field == DigestHash && wireType == WireLengthDelimited)
            {
                var hash = reader.Bytes();
                sha256 = Encoding.ASCII.GetString(hash.Array!, hash.Offset, hash.Count);
            }
            else if (field == DigestSize && wireType == WireVarint)
            {
                size = (long)reader.Varint();
            }
            else
            {
                reader.Skip(wireType);
            }
        }
        return Sha256Hex.IsDigest(sha256) && size >= 0;
    }

    /// <summary>The length-delimited fields of a message (the only kind the messages here nest); others are skipped.</summary>
    private static System.Collections.Generic.IEnumerable<(int Field, ArraySegment<byte> Value)> LengthDelimitedFields(ArraySegment<byte> message)
    {
        var reader = new Reader(message);
        while (!reader.AtEnd)
        {
            var (field, wireType) = reader.Tag();
            if (wireType == WireLengthDelimited)
            {
                yield return (field, reader.Bytes());
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }

    private static void WriteBytes(Stream stream, int field, byte[] value)
    {
        WriteTag(stream, field, WireLengthDelimited);
        WriteVarint(stream, (ulong)value.Length);
        stream.Write(value, 0, value.Length);
    }

    private static void WriteTag(Stream stream, int field, int wireType) => WriteVarint(stream, (ulong)((field << 3) | wireType));

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    private sealed class Reader
    {
        private readonly ArraySegment<byte> _bytes;
        private int _position;

        public Reader(ArraySegment<byte> bytes) => _bytes = bytes;

        public bool AtEnd => _position >= _bytes.Count;

        public (int Field, int WireType) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Next();
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new FormatException("varint longer than 10 bytes");
        }

        public ArraySegment<byte> Bytes()
        {
            var length = Varint();
            if (length > (ulong)(_bytes.Count - _position))
            {
                throw new FormatException("length beyond the message");
            }
            var value = new ArraySegment<byte>(_bytes.Array!, _bytes.Offset + _position, (int)length);
            _position += (int)length;
            return value;
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case WireVarint:
                    Varint();
                    break;
                case WireFixed64:
                    Advance(8);
                    break;
                case WireLengthDelimited:
                    Bytes();
                    break;
                case WireFixed32:
                    Advance(4);
                    break;
                default:
                    throw new FormatException($"wire type {wireType}");
            }
        }

        private void Advance(int count)
        {
            if (count > _bytes.Count - _position)
            {
                throw new FormatException("field beyond the message");
            }
            _position += count;
        }

        private byte Next()
        {
            if (AtEnd)
            {
                throw new FormatException("message ends inside a field");
            }
            return _bytes.Array![_bytes.Offset + _position++];
        }
    }
}
