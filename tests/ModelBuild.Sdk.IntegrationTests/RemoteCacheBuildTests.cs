using ModelBuild.Tests;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>Build agents sharing engines through a real nginx WebDAV cache on 127.0.0.1 (docs/caching.md).</summary>
[TestClass]
public sealed class RemoteCacheBuildTests
{
    private const string Items = """
            <ModelCompile Include="models/seed_linear_dynamic.pt2" Shapes="input:0=1..8..64" />
            <None Include="models/*.cases.safetensors" CopyToOutputDirectory="PreserveNewest" />
        """;

    private const string CheckCases = """
        using ModelBuild.Engine.Safetensors;
        using ModelBuild.Runtime.Torch;
        using static TorchSharp.torch;

        var cases = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "models", "seed_linear_dynamic.cases.safetensors"));
        using var model = Agent.Models.SeedLinearDynamic.Load();
        var worst = 0.0;
        foreach (var name in cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]))
        {
            using var scope = NewDisposeScope();
            worst = Math.Max(worst, (model.Run(cases.ToTensor($"{name}.in.0")) - cases.ToTensor($"{name}.out.0")).abs().max().item<float>());
        }
        Console.WriteLine($"worst {worst:E2}");
        return worst <= 1e-4 ? 0 : 1;
        """;

    private static TestProject Agent(string name, string properties)
    {
        var project = TestProject.Create(name, Items, $"<RootNamespace>Agent</RootNamespace>{properties}", CheckCases);
        project.AddFixture("seed_linear_dynamic", "model.pt2");
        project.AddFixture("seed_linear_dynamic", "cases.safetensors", "seed_linear_dynamic.cases.safetensors");
        return project;
    }

    private static string Progress(ProcessResult build) =>
        build.Lines.Single(l => l.StartsWith("ModelBuild: models/seed_linear_dynamic.pt2 -> SeedLinearDynamic: ", StringComparison.Ordinal) && l.Contains(" in ", StringComparison.Ordinal));

    [TestMethod]
    public void A_second_agent_with_an_empty_local_cache_gets_the_engine_from_the_first_without_modelc()
    {
        using var server = NginxCacheServer.Start();
        var ci = Agent("AgentCi", $"<ModelBuildRemoteCacheUrl>{server.Url}</ModelBuildRemoteCacheUrl><ModelBuildRemoteCacheUpload>true</ModelBuildRemoteCacheUpload>");

        var compiled = ci.Build();

        Assert.AreEqual(0, compiled.ExitCode, compiled.ToString());
        CollectionAssert.AreEqual(new[] { "SeedLinearDynamic" }, compiled.Compiled, compiled.ToString());
        StringAssert.Contains(Progress(compiled), "compiled, stored ");
        StringAssert.Contains(Progress(compiled), ", uploaded ");
        var blob = Directory.GetFiles(Path.Combine(server.Store, "cas")).Single();
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(ci.ModelBuildDirectory, "SeedLinearDynamic.engine")), File.ReadAllBytes(blob));

        // Another machine: its own project folder and local cache; read only, the URL from MODELBUILD_REMOTE_CACHE_URL.
        var developer = Agent("AgentDev", "");
        var restored = developer.Build($"-p:MODELBUILD_REMOTE_CACHE_URL={server.Url}");

        Assert.AreEqual(0, restored.ExitCode, restored.ToString());
        Assert.IsEmpty(restored.Compiled, restored.ToString());
        Assert.IsFalse(restored.Output.Contains("modelc.dll", StringComparison.Ordinal), "no modelc process on a remote hit\n" + restored);
        StringAssert.Contains(Progress(restored), "remote cache hit ");
        StringAssert.Contains(Progress(restored), ", stored ", "a remote hit fills the local cache");
        Assert.HasCount(1, Directory.GetFiles(Path.Combine(developer.Directory, ".cache", "ac")));
        var run = developer.RunApp();
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Output, "worst ");

        // The server goes away: a coded warning, and the build compiles the model itself.
        var offline = Agent("AgentOffline", "<ModelBuildCache>false</ModelBuildCache><ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu>");
        File.WriteAllText(Path.Combine(offline.Directory, "Program.cs"), "return 0;\n");
        var down = offline.Build($"-p:ModelBuildRemoteCacheUrl={NginxCacheServer.UnusedUrl()}");

        Assert.AreEqual(0, down.ExitCode, down.ToString());
        CollectionAssert.AreEqual(new[] { "SeedLinearDynamic" }, down.Compiled, down.ToString());
        Assert.IsTrue(down.Lines.Any(l => l.StartsWith($"{offline.ProjectFile}({offline.LineOf("seed_linear_dynamic.pt2")}): warning MB6103:", StringComparison.Ordinal)), down.ToString());
    }
}
