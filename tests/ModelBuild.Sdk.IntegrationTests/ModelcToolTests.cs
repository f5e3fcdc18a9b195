using System.Text.RegularExpressions;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// The modelc .NET tool as a user installs it: dotnet tool install of the packed package (into a tool path of the
/// workspace, not the user's tools), then inspect, compile and verify the sample model with the installed command.
/// </summary>
[TestClass]
public sealed partial class ModelcToolTests
{
    [TestMethod]
    public void The_packed_tool_installs_inspects_a_model_says_how_to_get_libtorch_then_compiles_and_verifies()
    {
        // As on a machine whose NuGet configuration knows no ModelBuild feed (and, here, no other feed either).
        var toolPath = Path.Combine(IntegrationWorkspace.Root, "tools");
        var noFeeds = Path.Combine(IntegrationWorkspace.Root, "no-feeds.config");
        File.WriteAllText(noFeeds, "<configuration><packageSources><clear /></packageSources></configuration>");
        var install = Dotnet("tool", "install", "modelc", "--tool-path", toolPath, "--add-source", IntegrationWorkspace.Feed,
            "--version", IntegrationWorkspace.Version, "--configfile", noFeeds);
        Assert.AreEqual(0, install.ExitCode, install.ToString());
        var modelc = Path.Combine(toolPath, OperatingSystem.IsWindows() ? "modelc.exe" : "modelc");
        var model = Path.Combine(IntegrationWorkspace.SampleModels, "small_cnn.pt2");
        var engine = Path.Combine(IntegrationWorkspace.Root, "tool-output", "small_cnn.engine");

        var inspect = Modelc(modelc, new(), "inspect", model);
        Assert.AreEqual(0, inspect.ExitCode, inspect.ToString());
        StringAssert.Contains(inspect.Output, "[s77, 3, 8*s69, 8*s81]");
        StringAssert.Contains(inspect.Output, "s77          1..8");

        // The package carries no libtorch: with none in the packages folder, compile says how to get one.
        var empty = Directory.CreateDirectory(Path.Combine(IntegrationWorkspace.Root, "no-packages")).FullName;
        var missing = Modelc(modelc, new() { ["NUGET_PACKAGES"] = empty }, "compile", model, "-o", engine);
        Assert.AreEqual(1, missing.ExitCode, missing.ToString());
        StringAssert.StartsWith(missing.Output, "modelc: error MB0010: ");
        var download = DownloadCommand().Match(missing.Output);
        Assert.IsTrue(download.Success, missing.ToString());
        Assert.AreEqual(empty, download.Groups["output"].Value);
        Assert.IsFalse(File.Exists(engine));

        // That command, aimed at the packages folder the builds use (SDK builds may have put libtorch there already).
        var fetched = Dotnet("package", "download", download.Groups["package"].Value, "--output", IntegrationWorkspace.PackagesFolder);
        Assert.AreEqual(0, fetched.ExitCode, fetched.ToString());

        var compile = Modelc(modelc, new(), "compile", model, "-o", engine);
        Assert.AreEqual(0, compile.ExitCode, compile.ToString());
        StringAssert.Contains(compile.Output, "validated max against reference");
        var verify = Modelc(modelc, new(), "verify", engine, "--cases", Path.Combine(IntegrationWorkspace.SampleModels, "cases.safetensors"));
        Assert.AreEqual(0, verify.ExitCode, verify.ToString());
        StringAssert.Matches(verify.Lines.Last(l => l.Length > 0), PassedNoneFailed());
    }

    private static ProcessResult Dotnet(params string[] arguments) => DotnetCli.Run(IntegrationWorkspace.Root, "dotnet", arguments);

    private static ProcessResult Modelc(string modelc, Dictionary<string, string> environment, params string[] arguments) =>
        DotnetCli.Run(IntegrationWorkspace.Root, modelc, arguments, environment);

    [GeneratedRegex(@"'dotnet package download (?<package>\S+) --output (?<output>[^']+)'")]
    private static partial Regex DownloadCommand();

    [GeneratedRegex(@"^[1-9]\d* passed, 0 failed$")]
    private static partial Regex PassedNoneFailed();
}
