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
/// tensor bytes. Reading copies nothing: <see cref="Data"/> slices the buffer it was given.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>Headers beyond this are refused rather than parsed (the format's own reader uses the same bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

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
    public static SafetensorsFile Read(string path) => Parse(System.IO.File.ReadAllBytes(path), path);

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
        try
        {
            using var doc = JsonDocument.Parse(bytes.Slice(8, (int)headerLength));
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.GetString() ?? "";
                    }
                    continue;
                }
                var dtypeName = prop.Value.GetProperty("dtype").GetString() ?? "";
                if (!TensorDTypes.TryParse(dtypeName, out var dtype))
                {
                    throw new ModelBuildException(DiagnosticCodes.SafetensorsUnknownDtype, $"tensor '{prop.Name}' has dtype '{dtypeName}', which ModelBuild does not support.", file);
                }
                var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var entry = new SafetensorsEntry(prop.Name, dtype, shape, offsets[0], offsets[1]);
                if (shape.Any(d => d < 0) || offsets.Length != 2 || entry.Begin < 0 || entry.End < entry.Begin || entry.End > payload.Length
                    || entry.End - entry.Begin != entry.ElementCount * dtype.ElementSize())
                {
                    throw Malformed(file, $"tensor '{prop.Name}' has shape [{string.Join(", ", shape)}] and offsets [{string.Join(", ", offsets)}], which do not fit the {payload.Length}-byte payload");
                }
                tensors[prop.Name] = entry;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException)
        {
            throw Malformed(file, $"the JSON header is not valid: {e.Message}");
        }
        return new SafetensorsFile(payload, tensors, metadata, file);
    }

    private static ModelBuildException Malformed(string file, string what) =>
        new(DiagnosticCodes.SafetensorsMalformed, $"not a valid safetensors file: {what}.", file);
}
