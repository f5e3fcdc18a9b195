using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Cli.Tests;

/// <summary>The real modelc process: compile, verify, run, and the error line format the MSBuild task parses.</summary>
[TestClass]
public sealed class CompileVerifyRunCommandTests
{
    private static readonly string Work = Path.Combine(Path.GetTempPath(), $"modelc-tests-{Guid.NewGuid():N}");

    [ClassCleanup]
    public static void RemoveWork()
    {
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    [TestMethod]
    public void CompileThenVerify_AFixture_PassesEveryCase()
    {
        var engine = Path.Combine(Work, "multi_io.mbengine");
        var cases = TestPaths.Fixture("multi_io", "cases.safetensors");

        var compile = Modelc("compile", TestPaths.Fixture("multi_io", "model.pt2"), "-o", engine, "--name", "multi_io");
        var verify = Modelc("verify", engine, "--cases", cases);

        Assert.AreEqual(0, compile.Code, compile.Stderr);
        StringAssert.Contains(compile.Stdout, "validated max against reference");
        Assert.AreEqual(0, verify.Code, verify.Stderr);
        var count = CasesCount(cases);
        Assert.AreEqual($"{count} passed, 0 failed", verify.Stdout.TrimEnd().Split('\n')[^1]);
    }

    [TestMethod]
    public void Run_WritesTheOutputsOfTheEngine()
    {
        var engine = Path.Combine(Work, "seed.mbengine");
        var input = Path.Combine(Work, "input.safetensors");
        var output = Path.Combine(Work, "output.safetensors");
        var cases = SafetensorsFile.Read(TestPaths.Fixture("seed_linear_dynamic", "cases.safetensors"));
        var x = cases.Tensors["opt.in.0"];
        File.WriteAllBytes(input, SafetensorsWriter.Write([new SafetensorsTensor("input", x.DType, x.Shape, cases.Data("opt.in.0"))]));

        Assert.AreEqual(0, Modelc("compile", TestPaths.Fixture("seed_linear_dynamic", "model.core.pt2"), "-o", engine).Code);
        var run = Modelc("run", engine, "--input", input, "-o", output);

        Assert.AreEqual(0, run.Code, run.Stderr);
        var result = SafetensorsFile.Read(output);
        var y = result.Tensors.Values.Single();
        CollectionAssert.AreEqual(cases.Tensors["opt.out.0"].Shape, y.Shape);
    }

    [TestMethod]
    public void Compile_WideningARange_FailsWithACodedErrorLineAndExitCodeOne()
    {
        var model = TestPaths.Fixture("mlp", "model.pt2");

        var compile = Modelc("compile", model, "-o", Path.Combine(Work, "never.mbengine"), "--shape", "x:0=1..512");

        Assert.AreEqual(1, compile.Code);
        StringAssert.StartsWith(compile.Stderr, $"modelc: error MB2004: {model}: ");
        StringAssert.Contains(compile.Stderr, "1..256");
        Assert.IsFalse(File.Exists(Path.Combine(Work, "never.mbengine")));
    }

    [TestMethod]
    public void Verify_ACaseOutsideTheNarrowedRange_FailsItWithTheRangeError()
    {
        var engine = Path.Combine(Work, "mlp-narrow.mbengine");
        var cases = TestPaths.Fixture("mlp", "cases.safetensors");
        Assert.AreEqual(0, Modelc("compile", TestPaths.Fixture("mlp", "model.pt2"), "-o", engine, "--shape", "x:0=1..8..16").Code);

        var verify = Modelc("verify", engine, "--cases", cases);

        Assert.AreEqual(1, verify.Code);
        Assert.AreEqual($"{CasesCount(cases) - 1} passed, 1 failed", verify.Stdout.TrimEnd().Split('\n')[^1]);
        StringAssert.Contains(verify.Stderr, $"modelc: error MB5003: {cases}: case 'max': input 'x' dim 0 (symbol s77) = 256 is outside the compiled range 1..16.");
    }

    [TestMethod]
    public void Bench_WritesTheEnginesLoadAndLatencyOfTheChosenCaseAsJson()
    {
        var engine = Path.Combine(Work, "bench.mbengine");
        var json = Path.Combine(Work, "bench.json");
        Assert.AreEqual(0, Modelc("compile", TestPaths.Fixture("mlp", "model.pt2"), "-o", engine, "--name", "mlp").Code);

        var bench = Modelc("bench", engine, "--cases", TestPaths.Fixture("mlp", "cases.safetensors"), "--case", "max,min", "--warmup", "1", "--iterations", "7", "--json", json);

        Assert.AreEqual(0, bench.Code, bench.Stderr);
        StringAssert.StartsWith(bench.Stdout, "bench mlp on cpu fp32, case max: load ");
        StringAssert.Contains(bench.Stdout, "bench mlp on cpu fp32, case min: load ");
        using var result = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var root = result.RootElement;
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, root.GetProperty("computeCapability").ValueKind);
        var runs = root.GetProperty("results").EnumerateArray().ToList();
        CollectionAssert.AreEqual(new[] { "max", "min" }, runs.Select(r => r.GetProperty("case").GetString()).ToArray());
        Assert.IsFalse(runs[0].GetProperty("cudaGraphs").GetBoolean(), "a CPU engine replays no CUDA graphs");
        Assert.AreEqual(7, runs[0].GetProperty("runs").GetInt32());
        var p10 = runs[0].GetProperty("p10Us").GetDouble();
        var median = runs[0].GetProperty("medianUs").GetDouble();
        Assert.IsTrue(p10 > 0 && p10 <= median && median <= runs[0].GetProperty("p90Us").GetDouble(), bench.Stdout);
    }

    private static int CasesCount(string path) =>
        SafetensorsFile.Read(path).Tensors.Keys.Count(k => k.EndsWith(".in.0", StringComparison.Ordinal));

    private static (int Code, string Stdout, string Stderr) Modelc(params string[] args)
    {
        Directory.CreateDirectory(Work);
        return ModelcProcess.Run(args);
    }
}
