using System.IO.Compression;
using System.Text;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>
/// Archive-aware mutations: the zip is rebuilt with one entry changed by the mutator its kind calls for (JSON,
/// pickle, a nested zip, raw bytes), or with an entry dropped, renamed out of the archive, duplicated, or replaced by
/// a compression bomb, or everything deflated; sometimes the rebuilt zip's own bytes are mutated. Rebuilding keeps CRCs
/// and sizes right, so the change reaches the readers behind the zip layer.
/// </summary>
internal static class ZipMutator
{
    private static readonly string[] UnsafeNames = ["../escaped", "/etc/passwd", "a\\..\\b", "C:evil", "model/../../x"];

    public static byte[] Mutate(byte[] zip, Random rng, int depth = 0)
    {
        List<(string Name, byte[] Data)> entries;
        try
        {
            entries = Read(zip);
        }
        catch (InvalidDataException)
        {
            return ByteMutator.Mutate(zip, rng);
        }
        if (entries.Count == 0 || rng.Next(10) == 0)
        {
            return ByteMutator.Mutate(zip, rng);
        }
        var i = rng.Next(entries.Count);
        var level = CompressionLevel.NoCompression;
        switch (rng.Next(40))
        {
            case 0:
                entries.RemoveAt(i);
                break;
            case 1:
                entries[i] = (UnsafeNames[rng.Next(UnsafeNames.Length)], entries[i].Data);
                break;
            case 2:
                entries.Add(entries[i]);
                break;
            case 3:
                // Up to 16 MiB of zeros, which deflate shrinks a few hundredfold.
                entries[i] = (entries[i].Name, new byte[rng.Next(1 << 20, 16 << 20)]);
                level = CompressionLevel.Fastest;
                break;
            case 4:
                level = CompressionLevel.Optimal;
                break;
            default:
                entries[i] = (entries[i].Name, MutateEntry(entries[i].Name, entries[i].Data, rng, depth));
                break;
        }
        var rebuilt = Write(entries, level);
        return rng.Next(10) == 0 ? ByteMutator.Mutate(rebuilt, rng) : rebuilt;
    }

    private static byte[] MutateEntry(string name, byte[] data, Random rng, int depth)
    {
        if (data.AsSpan().StartsWith("PK\u0003\u0004"u8) && depth < 2)
        {
            return Mutate(data, rng, depth + 1);
        }
        if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(JsonMutator.Mutate(Encoding.UTF8.GetString(data), rng));
        }
        return name.EndsWith(".pkl", StringComparison.Ordinal) ? PickleMutator.Mutate(data, rng) : ByteMutator.Mutate(data, rng);
    }

    public static List<(string Name, byte[] Data)> Read(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var entries = new List<(string, byte[])>();
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            entries.Add((entry.FullName, copy.ToArray()));
        }
        return entries;
    }

    public static byte[] Write(IEnumerable<(string Name, byte[] Data)> entries, CompressionLevel level)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var stream = archive.CreateEntry(name.Length == 0 ? "_" : name, level).Open();
                stream.Write(data);
            }
        }
        return buffer.ToArray();
    }
}
