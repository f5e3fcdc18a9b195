using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>Copies of the real fixtures with entries replaced or added, written to a temporary folder it deletes.</summary>
internal sealed class FixtureEditor : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("modelbuild-edit-").FullName;

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string RewriteProgram(string model, Action<JsonNode> edit) =>
        Rewrite(model, "model.pt2", "edited.pt2", replace: name =>
        {
            if (!name.EndsWith("models/model.json", StringComparison.Ordinal))
            {
                return null;
            }
            var program = JsonNode.Parse(ReadEntry(model, "model.pt2", name))!;
            edit(program);
            return Encoding.UTF8.GetBytes(program.ToJsonString());
        });

    /// <summary>The legacy archive with its state dict's data.pkl replaced.</summary>
    public string RewriteStateDict(string model, byte[] pickle)
    {
        var inner = new MemoryStream();
        using (var original = new ZipArchive(new MemoryStream(ReadEntryBytes(model, "model.legacy.pt2", "serialized_state_dict.pt"))))
        using (var copy = new ZipArchive(inner, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in original.Entries)
            {
                using var target = copy.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                if (entry.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                {
                    target.Write(pickle);
                }
                else
                {
                    using var source = entry.Open();
                    source.CopyTo(target);
                }
            }
        }
        return Rewrite(model, "model.legacy.pt2", "pickle.pt2", replace: name => name == "serialized_state_dict.pt" ? inner.ToArray() : null);
    }

    public string Rewrite(string model, string file, string name, Func<string, byte[]?>? replace = null, (string Name, byte[] Data)? extra = null)
    {
        var path = Path.Combine(Folder, name);
        using var original = ZipFile.OpenRead(TestPaths.Fixture(model, file));
        using var copy = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var entry in original.Entries)
        {
            using var target = copy.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            if (replace?.Invoke(entry.FullName) is { } bytes)
            {
                target.Write(bytes);
            }
            else
            {
                using var source = entry.Open();
                source.CopyTo(target);
            }
        }
        if (extra is var (extraName, data))
        {
            using var target = copy.CreateEntry(extraName, CompressionLevel.Optimal).Open();
            target.Write(data);
        }
        return path;
    }

    public static string ReadEntry(string model, string file, string entry) => Encoding.UTF8.GetString(ReadEntryBytes(model, file, entry));

    public static byte[] ReadEntryBytes(string model, string file, string entry)
    {
        using var zip = ZipFile.OpenRead(TestPaths.Fixture(model, file));
        using var source = zip.GetEntry(entry)!.Open();
        using var bytes = new MemoryStream();
        source.CopyTo(bytes);
        return bytes.ToArray();
    }
}
