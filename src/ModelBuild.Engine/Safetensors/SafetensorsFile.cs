using System.Buffers.Binary;
using System.Text.Json;
using ModelBuild.Diagnostics;

namespace ModelBuild.Engine.Safetensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">the tensor's name.</param>
/// <param name="DType">its element type.</param>
/// <param name="Shape">its sizes, outermost first.</param>
/// <param name="Begin">where its bytes start, relative to the payload.</param>
/// <param name="End">where its bytes end (exclusive), relative to the payload.</param>
public sealed record SafetensorsEntry(string Name, TensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A parsed safetensors file over bytes in memory: an 8-byte little-endian header length, a JSON header, then the
/// tensor bytes. Reading copies nothing: <see cref="Data"/> slices the buffer it was given. The header is checked as
/// the format's own reader checks it, so that no size in it is trusted: every shape's byte count is computed without
/// overflow and must equal its data range, and the ranges must tile the payload exactly (no gaps, no overlaps, no
/// bytes after the last tensor).
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>Headers beyond this are refused rather than parsed (the format's own reader uses the same bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The header is a map of maps; anything deeper is not safetensors.</summary>
    private const int MaxHeaderDepth = 4;

    private readonly ReadOnlyMemory<byte> _data;

    private SafetensorsFile(ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, SafetensorsEntry> tensors, IReadOnlyDictionary<string, string> metadata, string file)
    {
        _data = data;
        File = file;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Entries in file order.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Tensors { get; }

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The bytes of the payload after the header.</summary>
    public ReadOnlyMemory<byte> Payload => _data;

    /// <summary>The file the bytes came from, named in errors.</summary>
    public string File { get; }

    /// <summary>The entry of tensor <paramref name="name"/>; a missing one is an error naming the file (a cases file without a case's input, say).</summary>
    public SafetensorsEntry Entry(string name) =>
        Tensors.TryGetValue(name, out var e) ? e
        : throw new ModelBuildException(DiagnosticCodes.SafetensorsTensorMissing, $"the file has no tensor '{name}'.", File);

    /// <summary>The bytes of tensor <paramref name="name"/>, a slice of the buffer the file was parsed from.</summary>
    public ReadOnlyMemory<byte> Data(string name)
    {
        var e = Entry(name);
        return _data.Slice((int)e.Begin, (int)(e.End - e.Begin));
    }

    /// <summary>Reads and parses the file at <paramref name="path"/>.</summary>
    public static SafetensorsFile Read(string path) => Parse(ReadAllBytes(path), path);

    /// <summary>A file's bytes; a missing or unreadable file is MB4015 naming it.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        try
        {
            return System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.SafetensorsFileUnreadable, $"the file cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>Parses a safetensors file held in memory; the tensors stay in <paramref name="bytes"/>.</summary>
    /// <param name="bytes">the whole file.</param>
    /// <param name="file">Named in errors.</param>
    public static SafetensorsFile Parse(ReadOnlyMemory<byte> bytes, string file = "<memory>")
    {
        var span = bytes.Span;
        if (span.Length < 8)
        {
            throw Malformed(file, $"the file has {span.Length} bytes, fewer than the 8-byte header length");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(span);
        if (headerLength > MaxHeaderBytes || (long)headerLength > span.Length - 8)
        {
            throw Malformed(file, $"the header claims {headerLength} bytes but the file has {span.Length - 8} after the length");
        }
        var payload = bytes[(8 + (int)headerLength)..];
        var tensors = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(bytes.Slice(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = MaxHeaderDepth });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Malformed(file, "the JSON header is not an object");
            }
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                {
                    throw Malformed(file, $"the header names '{prop.Name}' twice");
                }
                if (prop.Name == "__metadata__")
                {
                    ReadMetadata(prop.Value, metadata, file);
                    continue;
                }
                tensors[prop.Name] = ReadEntry(prop.Name, prop.Value, payload.Length, file);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name or string that is not valid UTF-8, found only when it is read.
            throw Malformed(file, $"the JSON header is not valid: {e.Message}");
        }
        CheckTiling(tensors.Values, payload.Length, file);
        return new SafetensorsFile(payload, tensors, metadata, file);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Malformed(file, "__metadata__ is not an object of strings");
        }
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(m.Name, m.Value.GetString()!))
            {
                throw Malformed(file, $"__metadata__ entry '{m.Name}' is not a string, or appears twice");
            }
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, int payloadLength, string file)
    {
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeValue) || dtypeValue.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeValue) || shapeValue.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsValue) || offsetsValue.ValueKind != JsonValueKind.Array)
        {
            throw Malformed(file, $"tensor '{name}' is not an object with a string 'dtype' and arrays 'shape' and 'data_offsets'");
        }
        var dtypeName = dtypeValue.GetString()!;
        if (!TensorDTypes.TryParse(dtypeName, out var dtype))
        {
            throw new ModelBuildException(DiagnosticCodes.SafetensorsUnknownDtype, $"tensor '{name}' has dtype '{dtypeName}', which ModelBuild does not support.", file);
        }
        if (shapeValue.GetArrayLength() > TensorShapes.MaxRank || offsetsValue.GetArrayLength() != 2)
        {
            throw Malformed(file, $"tensor '{name}' has {shapeValue.GetArrayLength()} dims (at most {TensorShapes.MaxRank}) and {offsetsValue.GetArrayLength()} data offsets (2)");
        }
        var shape = Integers(shapeValue, name, "shape", file);
        var offsets = Integers(offsetsValue, name, "data_offsets", file);
        var entry = new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        var needed = TensorShapes.ByteCount(shape, dtype);
        if (needed is null || entry.End < entry.Begin || entry.End > payloadLength || entry.End - entry.Begin != needed)
        {
            throw Malformed(file, $"tensor '{name}' has shape [{string.Join(", ", shape)}] ({dtype}: {(needed is { } n ? $"{n} bytes" : "a size that overflows 64 bits")}) and offsets [{string.Join(", ", offsets)}], which do not fit the {payloadLength}-byte payload");
        }
        return entry;
    }

    private static long[] Integers(JsonElement array, string name, string property, string file) =>
        [.. array.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v >= 0
            ? v
            : throw Malformed(file, $"tensor '{name}' has {property} entry {d.GetRawText()}, which is not a non-negative 64-bit integer"))];

    /// <summary>As the reference reader: ordered by offset, each tensor starts where the previous ended and the last ends the file.</summary>
    private static void CheckTiling(IEnumerable<SafetensorsEntry> entries, int payloadLength, string file)
    {
        long at = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != at)
            {
                throw Malformed(file, $"tensor '{e.Name}' starts at byte {e.Begin} of the payload, but the previous tensor ends at {at}: the data has a gap or an overlap");
            }
            at = e.End;
        }
        if (at != payloadLength)
        {
            throw Malformed(file, $"the tensors end at byte {at} of the payload, but it has {payloadLength}");
        }
    }

    private static ModelBuildException Malformed(string file, string what) =>
        new(DiagnosticCodes.SafetensorsMalformed, $"not a valid safetensors file: {what}.", file);
}
