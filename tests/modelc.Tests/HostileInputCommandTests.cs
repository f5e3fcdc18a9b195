using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Cli.Tests;

/// <summary>
/// Every subcommand reports every failure as one line, "modelc: error MB####: &lt;file&gt;: &lt;sentence&gt;", exit code 1:
/// the hostile inputs of tests/fixtures/bad, engines with nulls where values belong (hashes recomputed), and the
/// runtime's own checks, which know no file name.
/// </summary>
[TestClass]
public sealed class HostileInputCommandTests
{
    private static readonly string Work = Directory.CreateTempSubdirectory("modelc-hostile-").FullName;

    [ClassCleanup]
    public static void RemoveWork() => Directory.Delete(Work, recursive: true);

    [TestMethod]
    public void Inspect_ACompressionBomb_IsMB1017()
    {
        var bomb = TestPaths.BadInput("json-bomb.pt2");

        AssertError(ModelcProcess.Run("inspect", bomb), "MB1017", bomb);
    }

    [TestMethod]
    public void Compile_ACompressionBomb_IsMB1017()
    {
        var bomb = TestPaths.BadInput("pickle-bomb.legacy.pt2");

        AssertError(ModelcProcess.Run("compile", bomb, "-o", Path.Combine(Work, "never.mbengine")), "MB1017", bomb);
        Assert.IsFalse(File.Exists(Path.Combine(Work, "never.mbengine")));
    }

    [TestMethod]
    public void VerifyAndBench_ACasesFileWhoseShapeOverflows_IsMB4001()
    {
        var engine = SeedEngine();
        var cases = TestPaths.BadInput("overflow-shape.cases.safetensors");

        AssertError(ModelcProcess.Run("verify", engine, "--cases", cases), "MB4001", cases);
        AssertError(ModelcProcess.Run("bench", engine, "--cases", cases), "MB4001", cases);
        AssertError(ModelcProcess.Run("compile", TestPaths.Fixture("seed_linear_dynamic", "model.pt2"), "-o", Path.Combine(Work, "never.mbengine"), "--cases", cases), "MB4001", cases);
    }

    [TestMethod]
    public void Run_AnInputWhoseShapeWrapsToTheBytesPresent_IsMB4001()
    {
        var input = TestPaths.BadInput("wrapping-shape.inputs.safetensors");

        AssertError(ModelcProcess.Run("run", SeedEngine(), "--input", input, "-o", Path.Combine(Work, "out.safetensors")), "MB4001", input);
    }

    [TestMethod]
    public void Run_AnInputOfTheWrongRank_IsMB5004NamingTheInputsFile()
    {
        var input = Path.Combine(Work, "rank.safetensors");
        File.WriteAllBytes(input, SafetensorsWriter.Write([new("input", TensorDType.F32, [2, 2, 2], new byte[32])]));

        var run = ModelcProcess.Run("run", SeedEngine(), "--input", input, "-o", Path.Combine(Work, "out.safetensors"));

        AssertError(run, "MB5004", input);
        StringAssert.Contains(run.Stderr, "input 'input' has 3 dims");
    }

    [TestMethod]
    [DataRow("run")]
    [DataRow("verify")]
    [DataRow("bench")]
    [DataRow("inspect")]
    public void EveryCommand_AnEngineWithANullWhereTheRuntimeNeedsAValue_IsMB4012NamingTheField(string command)
    {
        var engine = Path.Combine(Work, "null.mbengine");
        File.WriteAllBytes(engine, EngineEditor.Edit(File.ReadAllBytes(SeedEngine()), (_, plan) => plan["blocks"]![0]!["nodes"]![0]!["outputs"]![0]!["name"] = null));
        var cases = TestPaths.Fixture("seed_linear_dynamic", "cases.safetensors");
        string[] args = command switch
        {
            "run" => ["run", engine, "--input", cases, "-o", Path.Combine(Work, "out.safetensors")],
            "inspect" => ["inspect", engine],
            _ => [command, engine, "--cases", cases],
        };

        var result = ModelcProcess.Run(args);

        AssertError(result, "MB4012", engine);
        StringAssert.Contains(result.Stderr, ".outputs[0].name is missing or null");
    }

    [TestMethod]
    public void Verify_AnEngineThatDoesNotExist_IsMB4015()
    {
        var engine = Path.Combine(Work, "absent.mbengine");

        AssertError(ModelcProcess.Run("verify", engine, "--cases", TestPaths.Fixture("mlp", "cases.safetensors")), "MB4015", engine);
    }

    private static void AssertError((int Code, string Stdout, string Stderr) result, string code, string file)
    {
        Assert.AreEqual(1, result.Code, result.Stderr);
        StringAssert.StartsWith(result.Stderr, $"modelc: error {code}: {file}: ");
        Assert.AreEqual(1, result.Stderr.TrimEnd().Split('\n').Length, "one line:\n" + result.Stderr);
    }

    private static string SeedEngine()
    {
        var engine = Path.Combine(Work, "seed.mbengine");
        if (!File.Exists(engine))
        {
            var compile = ModelcProcess.Run("compile", TestPaths.Fixture("seed_linear_dynamic", "model.pt2"), "-o", engine, "--backend", "torch");
            Assert.AreEqual(0, compile.Code, compile.Stderr);
        }
        return engine;
    }
}
