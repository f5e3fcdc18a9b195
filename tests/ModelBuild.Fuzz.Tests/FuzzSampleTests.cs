using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using ModelBuild.Tests;

namespace ModelBuild.Fuzz.Tests;

/// <summary>
/// The fuzz harness in CI: a bounded sample of every reader's mutations (fixed seed, a few seconds each), and every
/// input a run ever kept (tests/fixtures/bad/fuzz), must end in a read or a coded error: no exception without a code,
/// no hang, no memory over the bound. The long runs and their numbers are in docs/reliability.md.
/// </summary>
[TestClass]
public sealed class FuzzSampleTests
{
    private const int Seed = 2026;

    private static readonly string Harness = typeof(FuzzSampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ModelBuild.FuzzHarness").Value!;

    [TestMethod]
    public void EveryReader_ABoundedSample_EndsInAReadOrACodedError()
    {
        var json = Path.Combine(Path.GetTempPath(), $"fuzz-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output) = Run("all", "--seed", $"{Seed}", "--seconds", "8", "--json", json);

            Assert.AreEqual(0, code, output);
            using var reports = JsonDocument.Parse(File.ReadAllText(json));
            var targets = reports.RootElement.EnumerateArray().ToList();
            Assert.HasCount(10, targets, output);
            foreach (var target in targets)
            {
                var name = target.GetProperty("target").GetString();
                Assert.IsTrue(target.GetProperty("passed").GetBoolean(), $"{name}:\n{output}");
                Assert.IsGreaterThan(5L, target.GetProperty("inputs").GetInt64(), $"{name} ran too few inputs to mean anything:\n{output}");
                Assert.IsGreaterThan(0L, target.GetProperty("codes").EnumerateObject().Sum(c => c.Value.GetInt64()), $"{name} refused nothing: the mutations do not reach it");
            }
        }
        finally
        {
            File.Delete(json);
        }
    }

    [TestMethod]
    public void EveryKeptInput_IsRefusedWithACode()
    {
        var kept = Directory.GetFiles(TestPaths.BadInput("fuzz")).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(kept);
        foreach (var group in kept.GroupBy(f => Target(Path.GetFileName(f))))
        {
            var (code, output) = Run([group.Key, .. group.SelectMany(f => new[] { "--replay", f })]);

            Assert.AreEqual(0, code, output);
            Assert.DoesNotContain(" 0 refused", output, "a kept input now reads: it is no regression test any more");
        }
    }

    /// <summary>Kept inputs are named &lt;target&gt;-s&lt;seed&gt;-&lt;index&gt;-&lt;seed file&gt;.</summary>
    private static string Target(string file) => file[..file.IndexOf("-s", StringComparison.Ordinal)];

    private static (int Code, string Output) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Harness);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
