using System.Net;
using System.Net.Sockets;
using ModelBuild.Diagnostics;
using ModelBuild.Tasks;
using ModelBuild.Tests;

namespace ModelBuild.Tasks.Tests;

/// <summary>The remote engine cache against a real nginx WebDAV server on 127.0.0.1 (one for the class).</summary>
[TestClass]
public sealed class RemoteEngineCacheTests
{
    private static NginxCacheServer s_server = null!;
    private string _root = "";

    [ClassInitialize]
    public static void StartServer(TestContext context) => s_server = NginxCacheServer.Start();

    [ClassCleanup]
    public static void StopServer() => s_server.Dispose();

    [TestInitialize]
    public void CreateFolder() => _root = Directory.CreateTempSubdirectory("mb-remote-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_root, recursive: true);

    private static string NewKey() => Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    private string Engine(byte[] bytes)
    {
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.engine");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static RemoteEngineCache Client(string url, bool upload = true, int timeoutSeconds = 10, string? header = null)
    {
        var warnings = new List<CacheWarning>();
        var settings = RemoteCacheSettings.Create(url, upload, timeoutSeconds, timeoutSeconds, "TEST_CACHE_HEADER",
            name => name == "TEST_CACHE_HEADER" ? header : null, warnings);
        Assert.IsEmpty(warnings);
        return new RemoteEngineCache(settings!);
    }

    private static byte[] Bytes(int count, int seed) => Enumerable.Range(0, count).Select(i => (byte)(i * seed)).ToArray();

    [TestMethod]
    public void An_uploaded_engine_is_restored_by_another_agent_byte_for_byte()
    {
        var key = NewKey();
        var bytes = Bytes(300_000, 7);
        using (var ci = Client(s_server.Url))
        {
            Assert.AreEqual(RemoteCacheResult.Done, ci.Store(key, Engine(bytes), CancellationToken.None));
        }
        var sha = EngineCacheKey.HashFile(Engine(bytes));
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(s_server.PathOf($"cas/{sha}")), "the blob is stored under its SHA-256");
        Assert.IsTrue(ActionResultCodec.TryDecode(File.ReadAllBytes(s_server.PathOf($"ac/{key}")), out var named, out var size));
        Assert.AreEqual((sha, (long)bytes.Length), (named, size), "the action entry names the blob");

        using var developer = Client(s_server.Url, upload: false);
        var destination = Path.Combine(_root, "restored.engine");
        Assert.AreEqual(RemoteCacheResult.Done, developer.TryRestore(key, destination, CancellationToken.None));
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(destination));
        Assert.IsEmpty(Directory.GetFiles(_root, "*.tmp"));
    }

    [TestMethod]
    public void An_unknown_key_is_a_quiet_miss_and_the_cache_stays_on()
    {
        using var cache = Client(s_server.Url);
        Assert.AreEqual(RemoteCacheResult.Miss, cache.TryRestore(NewKey(), Path.Combine(_root, "x.engine"), CancellationToken.None));
        Assert.IsTrue(cache.IsAvailable);
        Assert.IsFalse(File.Exists(Path.Combine(_root, "x.engine")));
    }

    [TestMethod]
    public void A_tampered_blob_is_a_miss_with_MB6104_and_never_reaches_the_engine()
    {
        var key = NewKey();
        var engine = Engine(Bytes(1000, 3));
        using var cache = Client(s_server.Url);
        Assert.IsTrue(cache.Store(key, engine, CancellationToken.None).Succeeded);
        var blob = s_server.PathOf($"cas/{EngineCacheKey.HashFile(engine)}");
        var tampered = Bytes(1000, 3);
        tampered[500] ^= 1;
        File.WriteAllBytes(blob, tampered);
        var destination = Engine([42]);

        var result = cache.TryRestore(key, destination, CancellationToken.None);

        Assert.IsFalse(result.Succeeded);
        Assert.AreEqual(DiagnosticCodes.RemoteCacheEntryCorrupt, result.Warning?.Code);
        StringAssert.Contains(result.Warning!.Message, EngineCacheKey.HashFile(blob));
        CollectionAssert.AreEqual(new byte[] { 42 }, File.ReadAllBytes(destination), "the engine file is untouched");
        Assert.IsEmpty(Directory.GetFiles(_root, "*.tmp"), "no temporary file is left");
        Assert.IsTrue(cache.IsAvailable, "a bad entry does not turn the cache off");
    }

    [TestMethod]
    public void An_action_entry_that_is_no_ActionResult_is_a_miss_with_MB6104()
    {
        var key = NewKey();
        Directory.CreateDirectory(s_server.PathOf("ac"));
        File.WriteAllText(s_server.PathOf($"ac/{key}"), "{\"sha256\": \"not protobuf\"}");
        using var cache = Client(s_server.Url);

        var result = cache.TryRestore(key, Path.Combine(_root, "x.engine"), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheEntryCorrupt, result.Warning?.Code);
        Assert.IsFalse(File.Exists(Path.Combine(_root, "x.engine")));
    }

    [TestMethod]
    public void A_blob_evicted_behind_its_action_entry_is_a_quiet_miss()
    {
        var key = NewKey();
        var engine = Engine(Bytes(100, 5));
        using var cache = Client(s_server.Url);
        Assert.IsTrue(cache.Store(key, engine, CancellationToken.None).Succeeded);
        File.Delete(s_server.PathOf($"cas/{EngineCacheKey.HashFile(engine)}"));

        Assert.AreEqual(RemoteCacheResult.Miss, cache.TryRestore(key, Path.Combine(_root, "x.engine"), CancellationToken.None));
    }

    [TestMethod]
    public void A_server_that_is_down_is_one_MB6103_warning_then_quiet_misses()
    {
        using var cache = Client(NginxCacheServer.UnusedUrl());

        var first = cache.TryRestore(NewKey(), Path.Combine(_root, "x.engine"), CancellationToken.None);
        var second = cache.TryRestore(NewKey(), Path.Combine(_root, "y.engine"), CancellationToken.None);
        var upload = cache.Store(NewKey(), Engine([1]), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheUnavailable, first.Warning?.Code);
        Assert.AreEqual(RemoteCacheResult.Miss, second);
        Assert.AreEqual(RemoteCacheResult.Miss, upload);
        Assert.IsFalse(cache.IsAvailable);
    }

    [TestMethod]
    public void HTTP_500_is_MB6103_and_turns_the_cache_off_where_404_is_a_miss()
    {
        using var cache = Client(s_server.Url + "broken/");

        var result = cache.TryRestore(NewKey(), Path.Combine(_root, "x.engine"), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheUnavailable, result.Warning?.Code);
        StringAssert.Contains(result.Warning!.Message, "HTTP 500");
        Assert.IsFalse(cache.IsAvailable);
    }

    [TestMethod]
    public void With_upload_disabled_nothing_is_written()
    {
        var key = NewKey();
        using var cache = Client(s_server.Url, upload: false);

        Assert.AreEqual(RemoteCacheResult.Miss, cache.Store(key, Engine(Bytes(10, 11)), CancellationToken.None));
        Assert.IsFalse(File.Exists(s_server.PathOf($"ac/{key}")));
        Assert.IsFalse(File.Exists(s_server.PathOf($"cas/{EngineCacheKey.HashFile(Engine(Bytes(10, 11)))}")));
    }

    [TestMethod]
    public void The_header_from_the_environment_authorizes_and_without_it_reads_are_refused_with_MB6105()
    {
        var key = NewKey();
        var bytes = Bytes(5000, 13);
        using (var ci = Client(s_server.Url + "private/", header: $"Authorization: Bearer {NginxCacheServer.Token}"))
        {
            Assert.IsTrue(ci.Store(key, Engine(bytes), CancellationToken.None).Succeeded);
            var destination = Path.Combine(_root, "restored.engine");
            Assert.IsTrue(ci.TryRestore(key, destination, CancellationToken.None).Succeeded);
            CollectionAssert.AreEqual(bytes, File.ReadAllBytes(destination));
        }
        using var stranger = Client(s_server.Url + "private/", header: "Authorization: Bearer wrong-secret");
        var refused = stranger.TryRestore(key, Path.Combine(_root, "x.engine"), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheRefused, refused.Warning?.Code);
        StringAssert.Contains(refused.Warning!.Message, "HTTP 401");
        Assert.IsFalse(refused.Warning.Message.Contains("wrong-secret", StringComparison.Ordinal), "the header's value is never logged");
    }

    [TestMethod]
    public void A_server_that_refuses_PUT_is_MB6106_naming_the_fix()
    {
        using var cache = Client(s_server.Url + "readonly/");

        var result = cache.Store(NewKey(), Engine([1, 2]), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheUploadFailed, result.Warning?.Code);
        StringAssert.Contains(result.Warning!.Message, "HTTP 405");
        StringAssert.Contains(result.Warning.Message, "dav_methods PUT");
    }

    [TestMethod]
    public void A_server_that_never_answers_times_out_into_MB6103()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        using var cache = Client($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/", timeoutSeconds: 1);

        var result = cache.TryRestore(NewKey(), Path.Combine(_root, "x.engine"), CancellationToken.None);

        Assert.AreEqual(DiagnosticCodes.RemoteCacheUnavailable, result.Warning?.Code);
        StringAssert.Contains(result.Warning!.Message, "timeout");
    }

    [TestMethod]
    public void A_cancelled_build_cancels_the_request_instead_of_warning()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        using var cache = Client($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/", timeoutSeconds: 60);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        Assert.Throws<OperationCanceledException>(() => cache.TryRestore(NewKey(), Path.Combine(_root, "x.engine"), cancellation.Token));
        Assert.IsTrue(cache.IsAvailable);
    }
}
