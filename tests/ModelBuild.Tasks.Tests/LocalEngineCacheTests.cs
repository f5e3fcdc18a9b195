using ModelBuild.Diagnostics;
using ModelBuild.Tasks;
using ModelBuild.Tests;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class LocalEngineCacheTests
{
    private string _root = "";

    [TestInitialize]
    public void CreateFolder() => _root = Directory.CreateTempSubdirectory("mb-cache-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_root, recursive: true);

    private string Engine(byte[] bytes)
    {
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.engine");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [TestMethod]
    public void A_stored_engine_is_restored_byte_for_byte()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        cache.Store("k1", Engine(bytes));
        var destination = Path.Combine(_root, "restored.engine");

        Assert.IsTrue(cache.TryRestore("k1", destination, out var problem));
        Assert.IsNull(problem);
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(destination));
        Assert.IsEmpty(Directory.GetFiles(_root, "*.tmp", SearchOption.AllDirectories));
    }

    [TestMethod]
    public void An_unknown_key_is_a_silent_miss()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        Assert.IsFalse(cache.TryRestore("nope", Path.Combine(_root, "x.engine"), out var problem));
        Assert.IsNull(problem);
    }

    [TestMethod]
    public void Corrupted_content_is_a_reported_miss_and_is_removed()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        cache.Store("k1", Engine([1, 2, 3, 4]));
        var content = Directory.GetFiles(Path.Combine(cache.Root, "cas")).Single();
        File.WriteAllBytes(content, [1, 2, 3, 5]);
        var destination = Path.Combine(_root, "restored.engine");

        Assert.IsFalse(cache.TryRestore("k1", destination, out var problem));
        StringAssert.Contains(problem, "SHA-256");
        Assert.IsFalse(File.Exists(destination));
        Assert.IsFalse(File.Exists(content));
        Assert.IsFalse(File.Exists(cache.ActionPath("k1")));
    }

    [TestMethod]
    public void A_key_whose_content_is_gone_is_a_reported_miss()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        cache.Store("k1", Engine([9, 9]));
        File.Delete(Directory.GetFiles(Path.Combine(cache.Root, "cas")).Single());

        Assert.IsFalse(cache.TryRestore("k1", Path.Combine(_root, "r.engine"), out var problem));
        StringAssert.Contains(problem, "missing");
    }

    [TestMethod]
    public void Storing_the_same_key_again_replaces_the_entry()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        cache.Store("k1", Engine([1]));
        cache.Store("k1", Engine([2]));
        var destination = Path.Combine(_root, "r.engine");
        Assert.IsTrue(cache.TryRestore("k1", destination, out _));
        CollectionAssert.AreEqual(new byte[] { 2 }, File.ReadAllBytes(destination));
    }

    [TestMethod]
    public void An_unwritable_cache_reports_MB6014()
    {
        var blocker = Path.Combine(_root, "file");
        File.WriteAllText(blocker, "not a folder");
        var cache = new LocalEngineCache(Path.Combine(blocker, "cache"));
        var e = Assert.ThrowsExactly<ModelBuildException>(() => cache.Store("k", Engine([1])));
        Assert.AreEqual(DiagnosticCodes.CacheWriteFailed, e.Code);
    }

    [TestMethod]
    public void A_full_disk_while_storing_is_MB6014_and_leaves_no_entry_or_temporary_file()
    {
        using var disk = SmallDisk.Mount(16);
        var cache = new LocalEngineCache(Path.Combine(disk.Path, "cache"));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => cache.Store("k1", Engine(new byte[64 * 1024])));

        Assert.AreEqual(DiagnosticCodes.CacheWriteFailed, e.Code);
        StringAssert.Contains(e.Message, "No space left on device");
        Assert.IsEmpty(Directory.GetFiles(disk.Path, "*", SearchOption.AllDirectories), "no content, key or temporary file");
        Assert.IsFalse(cache.TryRestore("k1", Path.Combine(_root, "r.engine"), out var problem));
        Assert.IsNull(problem, "a later build sees a plain miss");
    }

    [TestMethod]
    public void A_full_disk_while_restoring_is_MB4014_and_leaves_no_engine()
    {
        var cache = new LocalEngineCache(Path.Combine(_root, "cache"));
        cache.Store("k1", Engine(new byte[64 * 1024]));
        using var disk = SmallDisk.Mount(16);
        var destination = Path.Combine(disk.Path, "restored.engine");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => cache.TryRestore("k1", destination, out _));

        Assert.AreEqual(DiagnosticCodes.OutputWriteFailed, e.Code);
        StringAssert.StartsWith(e.Message, $"MB4014: {destination}: ");
        Assert.IsEmpty(Directory.GetFiles(disk.Path), "neither the engine nor its temporary file");
        Assert.IsTrue(cache.TryRestore("k1", Path.Combine(_root, "elsewhere.engine"), out _), "the entry itself is intact");
    }
}
