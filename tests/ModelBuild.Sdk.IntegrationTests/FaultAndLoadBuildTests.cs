using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ModelBuild.Tests;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// Real builds under faults and load: modelc killed with SIGKILL in the middle of a compile, and eight builds at once
/// that share one local cache and one remote cache (nginx on loopback). Nothing half-written may ever be taken for an
/// engine, and no cache entry may be lost or corrupt.
/// </summary>
[TestClass]
public sealed partial class FaultAndLoadBuildTests
{
    private const string Lean = "<ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu>";

    [TestMethod]
    public void A_modelc_killed_midway_fails_the_build_leaves_no_engine_and_the_next_build_compiles_again()
    {
        var project = TestProject.Create("Killed", """<ModelCompile Include="models/mlp.pt2" />""", Lean);
        project.AddFixture("mlp", "model.pt2");
        var engine = Path.Combine(project.ModelBuildDirectory, "Mlp.engine");

        var running = project.StartBuild();
        var modelc = WaitForModelc(project.Directory);
        Thread.Sleep(500);
        modelc.Kill();
        var killed = running.Wait();

        Assert.AreNotEqual(0, killed.ExitCode, killed.ToString());
        Assert.IsTrue(killed.Lines.Any(l => l.Contains("error MB6011", StringComparison.Ordinal)), killed.ToString());
        Assert.IsFalse(File.Exists(engine), "no engine where the build looks for one");
        Assert.IsFalse(File.Exists(Path.Combine(project.ModelBuildDirectory, "Mlp.g.cs")), "no accessor of an engine that is not there");
        Assert.IsFalse(Directory.Exists(Path.Combine(project.Directory, ".cache", "ac")) && Directory.EnumerateFiles(Path.Combine(project.Directory, ".cache", "ac")).Any(),
            "no cache entry");

        var again = project.Build();

        Assert.AreEqual(0, again.ExitCode, again.ToString());
        CollectionAssert.AreEqual(new[] { "Mlp" }, again.Compiled, "the interrupted compile is done again, not trusted");
        Assert.IsTrue(File.Exists(engine));
        Assert.IsEmpty(Directory.GetFiles(project.ModelBuildDirectory, "*.partial.engine*"), "what the killed modelc left is gone");
    }

    [TestMethod]
    public void Eight_builds_at_once_sharing_a_local_and_a_remote_cache_lose_and_corrupt_no_entry()
    {
        using var server = NginxCacheServer.Start();
        var cache = Directory.CreateDirectory(Path.Combine(IntegrationWorkspace.Root, "shared-cache")).FullName;
        var properties = $"""
            <ModelBuildCacheDir>{cache}</ModelBuildCacheDir>
            <ModelBuildRemoteCacheUrl>{server.Url}</ModelBuildRemoteCacheUrl>
            <ModelBuildRemoteCacheUpload>true</ModelBuildRemoteCacheUpload>
            {Lean}
            """;
        var projects = Enumerable.Range(1, 8).Select(i =>
        {
            // Two models among eight projects: every entry is written by four builds at once. One backend, so that every
            // build of a model writes the same bytes (auto records the timings it measured on this machine).
            var model = i % 2 == 0 ? "seed_linear_dynamic" : "seed_linear_static";
            var project = TestProject.Create($"Load{i}", $"""<ModelCompile Include="models/{model}.pt2" Backend="torch" />""", properties);
            project.AddFixture(model, "model.pt2");
            return project;
        }).ToList();

        var builds = projects.Select(p => p.StartBuild()).ToList().Select(b => b.Wait()).ToList();

        foreach (var build in builds)
        {
            Assert.AreEqual(0, build.ExitCode, build.ToString());
            // Uploads may race (each build compiled and uploads the same engine); what no build may ever see is a corrupt entry.
            Assert.IsFalse(build.Lines.Any(l => l.Contains("warning MB6013", StringComparison.Ordinal) || l.Contains("warning MB6104", StringComparison.Ordinal)), build.ToString());
        }
        var local = Entries(Path.Combine(cache, "ac"), Path.Combine(cache, "cas"));
        var remote = Entries(Path.Combine(server.Store, "ac"), Path.Combine(server.Store, "cas"));
        Assert.HasCount(2, local, "one entry per model, none lost");
        Assert.HasCount(2, remote);
        CollectionAssert.AreEquivalent(local.Values.ToList(), remote.Values.ToList(), "both caches hold the same engines");
        foreach (var project in projects)
        {
            var engine = Directory.GetFiles(project.ModelBuildDirectory, "*.engine").Single();
            CollectionAssert.Contains(local.Values.ToList(), Sha256(File.ReadAllBytes(engine)), $"{engine} is a cached engine");
        }
    }

    /// <summary>Every action entry of a cache, checked: it names a blob that exists and whose SHA-256 is its name.</summary>
    private static Dictionary<string, string> Entries(string ac, string cas)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var action in Directory.GetFiles(ac))
        {
            var digest = HexDigest().Match(File.ReadAllText(action)).Value;
            var blob = Path.Combine(cas, digest);
            Assert.IsTrue(File.Exists(blob), $"{action} names {digest}, which is not in {cas}");
            Assert.AreEqual(digest, Sha256(File.ReadAllBytes(blob)), $"{blob} is corrupt");
            entries[Path.GetFileName(action)] = digest;
        }
        Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(ac)!, "*.tmp", SearchOption.AllDirectories), "no temporary file left");
        return entries;
    }

    /// <summary>The modelc process (dotnet exec modelc.dll) a build of the project in <paramref name="directory"/> started.</summary>
    private static Process WaitForModelc(string directory)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            foreach (var pid in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
            {
                try
                {
                    var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
                    if (commandLine.Contains("modelc.dll", StringComparison.Ordinal) && new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget == directory)
                    {
                        return Process.GetProcessById(int.Parse(pid!));
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    // The process ended while we looked.
                }
            }
            Thread.Sleep(50);
        }
        Assert.Fail("the build started no modelc within 3 minutes");
        return null!;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex HexDigest();
}
