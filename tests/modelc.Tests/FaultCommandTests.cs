using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Cli.Tests;

/// <summary>
/// Faults made to happen for real: a full disk (a tmpfs of a few KiB), libtorch missing, a CUDA engine where there is
/// no CUDA. Each is one coded line naming the file, and leaves nothing a later build would take for an engine.
/// </summary>
[TestClass]
public sealed class FaultCommandTests
{
    private static readonly string Work = Directory.CreateTempSubdirectory("modelc-faults-").FullName;

    [ClassCleanup]
    public static void RemoveWork() => Directory.Delete(Work, recursive: true);

    [TestMethod]
    public void Compile_OntoAFullDisk_IsMB4014_AndLeavesNoFileBehind()
    {
        using var disk = SmallDisk.Mount(8);
        var engine = Path.Combine(disk.Path, "mlp.mbengine");

        var compile = ModelcProcess.Run("compile", TestPaths.Fixture("mlp", "model.pt2"), "-o", engine);

        Assert.AreEqual(1, compile.Code, compile.Stderr);
        StringAssert.StartsWith(compile.Stderr, $"modelc: error MB4014: {engine}: ");
        StringAssert.Contains(compile.Stderr, "No space left on device");
        Assert.IsEmpty(Directory.GetFileSystemEntries(disk.Path), "neither the engine nor its temporary file is left");
    }

    [TestMethod]
    public void Run_WritingItsOutputsOntoAFullDisk_IsMB4014_AndLeavesNoFileBehind()
    {
        var engine = Compile("seed_linear_dynamic");
        using var disk = SmallDisk.Mount(4);
        File.WriteAllBytes(Path.Combine(disk.Path, "filler"), new byte[4096]);
        var output = Path.Combine(disk.Path, "out.safetensors");

        var run = ModelcProcess.Run("run", engine, "--input", Inputs("seed_linear_dynamic", "input"), "-o", output);

        Assert.AreEqual(1, run.Code, run.Stderr);
        StringAssert.StartsWith(run.Stderr, $"modelc: error MB4014: {output}: ");
        Assert.IsFalse(File.Exists(output));
        Assert.HasCount(1, Directory.GetFileSystemEntries(disk.Path), "only the filler");
    }

    [TestMethod]
    public void Compile_WithLibtorchMissing_IsMB0010NamingTheModel()
    {
        // modelc's managed files without runtimes/ (libtorch, LibTorchSharp), and a NuGet cache TorchSharp cannot fall back on.
        var bare = Directory.CreateDirectory(Path.Combine(Work, "bare-modelc")).FullName;
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(bare, Path.GetFileName(file)), overwrite: true);
        }
        var engine = Path.Combine(Work, "never.mbengine");
        var model = TestPaths.Fixture("seed_linear_static", "model.pt2");

        var compile = ModelcProcess.RunAt(Path.Combine(bare, "modelc.dll"),
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Directory.CreateDirectory(Path.Combine(Work, "empty-nuget")).FullName },
            "compile", model, "-o", engine);

        Assert.AreEqual(1, compile.Code);
        StringAssert.StartsWith(compile.Stderr, $"modelc: error MB0010: {model}: modelc runs models on libtorch ");
        StringAssert.Contains(compile.Stderr, "MODELBUILD_LIBTORCH_DIR");
        Assert.IsFalse(File.Exists(engine));
    }

    [TestMethod]
    public void Verify_ACudaEngineWhereThereIsNoCuda_IsMB0006()
    {
        if (File.Exists("/dev/nvidia0"))
        {
            Assert.Inconclusive("this machine has a CUDA device: the fault is its absence");
        }
        var cpu = File.ReadAllBytes(Compile("seed_linear_dynamic"));
        var engine = Path.Combine(Work, "cuda.mbengine");
        File.WriteAllBytes(engine, EngineEditor.Edit(cpu, (manifest, plan) =>
        {
            manifest["target"]!["device"] = "cuda";
            plan["device"] = "cuda";
        }));
        var input = TestPaths.Fixture("seed_linear_dynamic", "cases.safetensors");

        var verify = ModelcProcess.Run("verify", engine, "--cases", input);

        Assert.AreEqual(1, verify.Code);
        StringAssert.StartsWith(verify.Stderr, $"modelc: error MB0006: {engine}: the engine was compiled for cuda");
    }

    /// <summary>An inputs file holding the opt case's first input under <paramref name="name"/>.</summary>
    internal static string Inputs(string model, string name)
    {
        var path = Path.Combine(Work, $"{model}.inputs.safetensors");
        var cases = SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors"));
        var x = cases.Tensors["opt.in.0"];
        File.WriteAllBytes(path, SafetensorsWriter.Write([new SafetensorsTensor(name, x.DType, x.Shape, cases.Data("opt.in.0"))]));
        return path;
    }

    private static string Compile(string model)
    {
        var engine = Path.Combine(Work, $"{model}.mbengine");
        if (!File.Exists(engine))
        {
            var compile = ModelcProcess.Run("compile", TestPaths.Fixture(model, "model.pt2"), "-o", engine);
            Assert.AreEqual(0, compile.Code, compile.Stderr);
        }
        return engine;
    }
}
