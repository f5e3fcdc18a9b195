using System.IO.Compression;
using ModelBuild.Tests;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// The ModelBuild SDK in real builds: each test generates a project, builds it with dotnet build against the packed
/// SDK and runtime, and checks the log, the outputs and the built app. modelc is the real one from the package.
/// </summary>
[TestClass]
public sealed class ModelCompileBuildTests
{
    private const string CheckCases = """
        using ModelBuild.Engine.Safetensors;
        using ModelBuild.Runtime.Torch;
        using static TorchSharp.torch;

        namespace App;

        internal static class Program
        {
            private static int Main()
            {
                var worst = 0.0;
                worst = Math.Max(worst, Check("seed_linear_dynamic", x => { using var m = Models.SeedLinearDynamic.Load(); return m.Run(x); }));
                worst = Math.Max(worst, Check("mlp", x => { using var m = Models.Mlp.Load(); return m.Run(x); }));
                Console.WriteLine($"worst {worst:E2}");
                return worst <= 1e-4 ? 0 : 1;
            }

            private static double Check(string model, Func<Tensor, Tensor> run)
            {
                var cases = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "models", $"{model}.cases.safetensors"));
                var worst = 0.0;
                foreach (var name in cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]))
                {
                    using var scope = NewDisposeScope();
                    var error = (run(cases.ToTensor($"{name}.in.0")) - cases.ToTensor($"{name}.out.0")).abs().max().item<float>();
                    Console.WriteLine($"{model} {name} max abs error {error:E2}");
                    worst = Math.Max(worst, error);
                }
                return worst;
            }
        }
        """;

    [TestMethod]
    public void The_built_app_reproduces_PyTorch_a_second_build_starts_no_modelc_and_a_flipped_embedded_byte_is_refused()
    {
        var project = TestProject.Create("App", """
                <ModelCompile Include="models/seed_linear_dynamic.pt2" Shapes="input:0=1..8..64" />
                <ModelCompile Include="models/mlp.pt2" Embed="false" />
                <None Include="models/*.cases.safetensors" CopyToOutputDirectory="PreserveNewest" />
            """, "<GenerateDocumentationFile>true</GenerateDocumentationFile><NoWarn>CS1591</NoWarn>", CheckCases);
        foreach (var model in new[] { "seed_linear_dynamic", "mlp" })
        {
            project.AddFixture(model, "model.pt2");
            project.AddFixture(model, "cases.safetensors", $"{model}.cases.safetensors");
        }

        var first = project.Build();
        Assert.AreEqual(0, first.ExitCode, first.ToString());
        CollectionAssert.AreEqual(new[] { "Mlp", "SeedLinearDynamic" }, first.Compiled, first.ToString());
        Assert.IsTrue(File.Exists(Path.Combine(project.OutputDirectory, "models", "Mlp.engine")), "Embed=false copies the engine beside the assembly");
        Assert.IsFalse(File.Exists(Path.Combine(project.OutputDirectory, "models", "SeedLinearDynamic.engine")), "the other engine is embedded");
        var docs = File.ReadAllText(Path.Combine(project.OutputDirectory, "App.xml"));
        StringAssert.Contains(docs, "(1..64)", "the accessor's docs list the dims with their ranges");

        var run = project.RunApp();
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Output, "seed_linear_dynamic max max abs error");
        StringAssert.Contains(run.Output, "mlp min max abs error");

        var second = project.Build();
        Assert.AreEqual(0, second.ExitCode, second.ToString());
        Assert.IsEmpty(second.Compiled, second.ToString());
        Assert.IsFalse(second.Output.Contains("modelc.dll", StringComparison.Ordinal), "no modelc process on a no-op build");
        StringAssert.Contains(second.Output, "Skipping target \"_ModelCompileCore\" because all output files are up-to-date");

        var question = project.Build("-question");
        Assert.AreEqual(0, question.ExitCode, question.ToString());

        // A byte flipped in the engine embedded in the assembly: refused at load with its code, not run.
        var assembly = Path.Combine(project.OutputDirectory, "App.dll");
        var original = File.ReadAllBytes(assembly);
        var engine = File.ReadAllBytes(Path.Combine(project.ModelBuildDirectory, "SeedLinearDynamic.engine"));
        var at = original.AsSpan().IndexOf(engine);
        Assert.IsGreaterThanOrEqualTo(0, at, "the engine is embedded byte for byte");
        var flipped = (byte[])original.Clone();
        flipped[at + engine.Length - 3] ^= 0x10;
        File.WriteAllBytes(assembly, flipped);
        var corrupt = project.RunApp();
        File.WriteAllBytes(assembly, original);
        Assert.AreNotEqual(0, corrupt.ExitCode, corrupt.ToString());
        StringAssert.Contains(corrupt.Output, "MB4005: App:App.Models.SeedLinearDynamic.engine: the engine's payload");
    }

    [TestMethod]
    public void Touching_a_model_or_changing_its_metadata_recompiles_exactly_that_item_and_clean_removes_outputs()
    {
        const string Items = """
                <ModelCompile Include="models/seed_linear_dynamic.pt2" Tolerance="TOL" />
                <ModelCompile Include="models/mlp.pt2" />
            """;
        const string Properties = """
                <ModelBuildCache>false</ModelBuildCache>
                <ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu>
                <ModelCompileMaxParallelism>2</ModelCompileMaxParallelism>
            """;
        var project = TestProject.Create("Incremental", Items.Replace("TOL", "1e-4"), Properties);
        project.AddFixture("seed_linear_dynamic", "model.pt2");
        var mlp = project.AddFixture("mlp", "model.pt2");

        var first = project.Build();
        Assert.AreEqual(0, first.ExitCode, first.ToString());
        CollectionAssert.AreEqual(new[] { "Mlp", "SeedLinearDynamic" }, first.Compiled);
        var progress = first.Lines.Where(l => l.StartsWith("ModelBuild: ", StringComparison.Ordinal)).ToList();
        Assert.IsTrue(progress.Take(2).All(l => l.Contains(": compiling (", StringComparison.Ordinal)),
            "with two slots both models start before either ends:\n" + string.Join("\n", progress));

        File.SetLastWriteTimeUtc(mlp, DateTime.UtcNow);
        var touched = project.Build();
        Assert.AreEqual(0, touched.ExitCode, touched.ToString());
        CollectionAssert.AreEqual(new[] { "Mlp" }, touched.Compiled);

        project.WriteProject(Items.Replace("TOL", "2e-4"), Properties);
        var changed = project.Build();
        Assert.AreEqual(0, changed.ExitCode, changed.ToString());
        CollectionAssert.AreEqual(new[] { "SeedLinearDynamic" }, changed.Compiled);

        var otherCompiler = Path.Combine(project.Directory, "other-modelc");
        CopyDirectory(Path.Combine(IntegrationWorkspace.PackagesFolder, "modelbuild.sdk", IntegrationWorkspace.Version, "tools", "modelc"), otherCompiler);
        var rebuilt = project.Build($"-p:ModelBuildModelcPath={Path.Combine(otherCompiler, "modelc.dll")}");
        Assert.AreEqual(0, rebuilt.ExitCode, rebuilt.ToString());
        CollectionAssert.AreEqual(new[] { "Mlp", "SeedLinearDynamic" }, rebuilt.Compiled);
        StringAssert.Contains(rebuilt.Output, otherCompiler);

        var clean = project.Build("-t:Clean");
        Assert.AreEqual(0, clean.ExitCode, clean.ToString());
        Assert.IsFalse(Directory.Exists(project.ModelBuildDirectory));
    }

    [TestMethod]
    public void Item_errors_point_at_the_file_and_line_of_the_item()
    {
        var project = TestProject.Create("Invalid", """
                <ModelCompile Include="models/absent.pt2" />
                <ModelCompile Include="models/mlp.pt2" Device="tpu" />
            """, "<ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu>");
        project.AddFixture("mlp", "model.pt2");
        var binlog = Path.Combine(project.Directory, "build.binlog");

        var build = project.Build($"-bl:{binlog}");

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, $"{project.ProjectFile}({project.LineOf("absent.pt2")}): error MB6001:");
        StringAssert.Contains(build.Output, $"{project.ProjectFile}({project.LineOf("Device=\"tpu\"")}): error MB6002:");
        var replayed = project.Replay(binlog);
        StringAssert.Contains(replayed.Output, $"{project.ProjectFile}({project.LineOf("absent.pt2")}): error MB6001:");
        StringAssert.Contains(replayed.Output, $"{project.ProjectFile}({project.LineOf("Device=\"tpu\"")}): error MB6002:");
    }

    [TestMethod]
    public void Modelc_errors_point_at_the_file_and_line_of_the_item()
    {
        var project = TestProject.Create("Failing", """
                <ModelCompile Include="models/unsupported.pt2" />
                <ModelCompile Include="models/mlp.pt2" Shapes="x:0=1..8..100000" />
                <ModelCompile Include="models/seed.pt2" Precision="bf16" Tolerance="1e-9" />
            """, "<ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu><ModelBuildCache>false</ModelBuildCache>");
        project.AddFixture("mlp", "model.pt2");
        project.AddFixture("seed_linear_dynamic", "model.pt2", "seed.pt2");
        WriteWithUnsupportedOp(TestPaths.Fixture("mlp", "model.pt2"), Path.Combine(project.Directory, "models", "unsupported.pt2"));
        var binlog = Path.Combine(project.Directory, "build.binlog");

        var build = project.Build($"-bl:{binlog}");

        Assert.AreNotEqual(0, build.ExitCode);
        var replayed = project.Replay(binlog);
        foreach (var (text, what) in new[] { ("unsupported.pt2", "an unsupported op"), ("100000", "a shape outside the archive's range"), ("1e-9", "a validation failure") })
        {
            var at = $"{project.ProjectFile}({project.LineOf(text)}): error MB";
            Assert.IsTrue(build.Lines.Any(l => l.StartsWith(at, StringComparison.Ordinal)), $"{what}: no '{at}' in the build output\n{build}");
            Assert.IsTrue(replayed.Lines.Any(l => l.StartsWith(at, StringComparison.Ordinal)), $"{what}: no '{at}' in the binary log\n{replayed}");
        }
    }

    /// <summary>The archive with aten.gelu renamed to an op no compiler knows.</summary>
    private static void WriteWithUnsupportedOp(string source, string destination)
    {
        using var input = ZipFile.OpenRead(source);
        using var output = ZipFile.Open(destination, ZipArchiveMode.Create);
        foreach (var entry in input.Entries)
        {
            using var read = entry.Open();
            using var buffer = new MemoryStream();
            read.CopyTo(buffer);
            var bytes = buffer.ToArray();
            if (entry.FullName.EndsWith("models/model.json", StringComparison.Ordinal))
            {
                bytes = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes)
                    .Replace("torch.ops.aten.gelu.default", "torch.ops.aten.modelbuild_unknown_op.default", StringComparison.Ordinal));
            }
            using var write = output.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            write.Write(bytes);
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
