using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using ModelBuild.Diagnostics;

namespace ModelBuild.Export.Archives;

/// <summary>
/// A zip archive read in place, never extracted: entry names are checked so none can leave the archive, the archive
/// and the sum of its entries are bounded by <see cref="ModelReaderOptions.MaxArchiveBytes"/>, every byte inflated
/// (nested archives included) is charged to an <see cref="InflationBudget"/> before it is inflated, and every failure of
/// the zip layer becomes an MB-coded error naming the file.
/// </summary>
internal sealed class ModelArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly Stream _stream;
    private readonly ModelReaderOptions _options;
    private readonly InflationBudget _budget;

    private ModelArchive(ZipArchive zip, Stream stream, string file, string? within, ModelReaderOptions options, InflationBudget budget)
    {
        _zip = zip;
        _stream = stream;
        _options = options;
        _budget = budget;
        File = file;
        Within = within;
        EntryNames = zip.Entries.Select(e => e.FullName).ToList();
    }

    /// <summary>The model file, named by every error (for a nested archive too: the file on disk).</summary>
    public string File { get; }

    /// <summary>For a nested archive, the entry of the outer archive that holds it; null otherwise.</summary>
    public string? Within { get; }

    public IReadOnlyList<string> EntryNames { get; }

    public static ModelArchive Open(string path, ModelReaderOptions options)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelBuildException(DiagnosticCodes.ModelFileNotFound, $"The model file cannot be opened: {e.Message}", path, e);
        }
        return Open(stream, path, null, options, InflationBudget.For(stream.Length, options, path));
    }

    /// <summary>Opens the zip stored in entry <paramref name="name"/> (a torch.save file inside a PT2 archive); it shares this archive's budget.</summary>
    public ModelArchive OpenNested(string name) =>
        Open(new MemoryStream(Read(name), writable: false), File, EntryPath(name), _options, _budget);

    /// <summary>Opens an archive the caller holds in memory (a program inside a bigger archive); <paramref name="name"/> names it in messages.</summary>
    public static ModelArchive Open(ReadOnlyMemory<byte> bytes, string name, ModelReaderOptions options)
    {
        var stream = MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        return Open(stream, name, null, options, InflationBudget.For(stream.Length, options, name));
    }

    /// <summary>How messages name an entry: its name, below the outer entry for a nested archive (<c>serialized_state_dict.pt/archive/data.pkl</c>).</summary>
    public string EntryPath(string name) => Within is null ? name : $"{Within}/{name}";

    private static ModelArchive Open(Stream stream, string file, string? within, ModelReaderOptions options, InflationBudget budget)
    {
        try
        {
            if (stream.Length > options.MaxArchiveBytes)
            {
                throw TooLarge(file, stream.Length, options);
            }
            var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                CheckName(entry.FullName, file);
                total += entry.Length;
                if (total > options.MaxArchiveBytes)
                {
                    zip.Dispose();
                    throw TooLarge(file, total, options);
                }
            }
            return new ModelArchive(zip, stream, file, within, options, budget);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw new ModelBuildException(DiagnosticCodes.ArchiveCorrupt,
                $"The zip archive{(within is null ? "" : $" in '{within}'")} is truncated or corrupt ({e.Message}).", file, e);
        }
        catch (ModelBuildException)
        {
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _zip.GetEntry(name) is not null;

    /// <summary>The declared uncompressed size of an entry, or null when there is none.</summary>
    public long? EntryLength(string name) => _zip.GetEntry(name)?.Length;

    /// <summary>The entry's bytes, read and checked against the size the central directory declares.</summary>
    public byte[] Read(string name)
    {
        var entry = _zip.GetEntry(name) ?? throw new ModelBuildException(DiagnosticCodes.ArchiveEntryMissing,
            $"The archive has no entry '{EntryPath(name)}'.", File);
        if (entry.Length > Array.MaxLength)
        {
            throw new ModelBuildException(DiagnosticCodes.ArchiveTooLarge,
                $"The entry '{EntryPath(name)}' holds {entry.Length} bytes; entries over 2 GiB are not read.", File);
        }
        _budget.Charge(entry.Length, EntryPath(name), File);
        try
        {
            var bytes = new byte[entry.Length];
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
            // Inflating stops at the declared size: an entry that lies about it is refused, not followed.
            if (stream.ReadByte() >= 0)
            {
                throw new InvalidDataException($"entry '{name}' holds more data than its declared size");
            }
            return bytes;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new ModelBuildException(DiagnosticCodes.ArchiveCorrupt,
                $"The entry '{EntryPath(name)}' cannot be read: the archive is truncated or corrupt ({e.Message}).", File, e);
        }
    }

    /// <summary>A short ASCII entry (byteorder, version), trimmed; null when it holds more than <paramref name="maxBytes"/>.</summary>
    public string? ReadShortText(string name, int maxBytes) =>
        EntryLength(name) <= maxBytes ? Encoding.ASCII.GetString(Read(name)).Trim() : null;

    public void Dispose()
    {
        _zip.Dispose();
        _stream.Dispose();
    }

    private static void CheckName(string name, string file)
    {
        var unsafeName = name.Length == 0 || name.StartsWith('/') || name.Contains('\\') || name.Contains(':') ||
            name.Split('/').Any(segment => segment == "..");
        if (unsafeName)
        {
            throw new ModelBuildException(DiagnosticCodes.ArchiveUnsafeEntry,
                $"The archive holds an entry named '{name}', which points outside the archive; the file is refused.", file);
        }
    }

    private static ModelBuildException TooLarge(string file, long size, ModelReaderOptions options) =>
        new(DiagnosticCodes.ArchiveTooLarge,
            $"The archive holds {size} bytes, more than the limit of {options.MaxArchiveBytes} bytes (ModelReaderOptions.MaxArchiveBytes).", file);
}
