using ModelBuild.Tests;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// One temp folder per test run with its own NuGet.config (the repo's local feed, then nuget.org) and global.json
/// (ModelBuild.Sdk at this repo's version), and a packages folder of its own: ModelBuild.* copies there are
/// deleted before the run, so a restore always extracts the packages eng/pack.sh just made.
/// </summary>
[TestClass]
public static class IntegrationWorkspace
{
    public static string Root { get; private set; } = "";

    public static string PackagesFolder { get; private set; } = "";

    /// <summary>artifacts/packages: the local feed eng/pack.sh packs every package into.</summary>
    public static string Feed { get; } = Path.Combine(TestPaths.RepoRoot, "artifacts", "packages");

    /// <summary>samples/Classifier/models: a small CNN (small_cnn.pt2) and PyTorch's outputs for it (cases.safetensors).</summary>
    public static string SampleModels { get; } = Path.Combine(TestPaths.RepoRoot, "samples", "Classifier", "models");

    public static string Version { get; } = typeof(IntegrationWorkspace).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false).Cast<System.Reflection.AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ModelBuild.Version").Value!;

    [AssemblyInitialize]
    public static void Create(TestContext context)
    {
        var sdkPackage = Path.Combine(Feed, $"ModelBuild.Sdk.{Version}.nupkg");
        if (!File.Exists(sdkPackage))
        {
            Assert.Fail($"{sdkPackage} is missing: run eng/pack.sh first (eng/test.sh does).");
        }
        PackagesFolder = Path.Combine(TestPaths.RepoRoot, "artifacts", "it-packages");
        Directory.CreateDirectory(PackagesFolder);
        foreach (var stale in Directory.GetDirectories(PackagesFolder, "modelbuild.*"))
        {
            Directory.Delete(stale, recursive: true);
        }
        Root = Directory.CreateTempSubdirectory("mb-it-").FullName;
        File.WriteAllText(Path.Combine(Root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="modelbuild-local" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="modelbuild-local"><package pattern="ModelBuild.*" /><package pattern="modelc" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(Root, "global.json"), $$"""
            {
              "sdk": { "version": "10.0.100", "rollForward": "latestFeature" },
              "msbuild-sdks": { "ModelBuild.Sdk": "{{Version}}" }
            }
            """);
        // Generated projects must not pick up this repository's Directory.Build.* or central versions.
        File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />");
    }

    [AssemblyCleanup]
    public static void Delete()
    {
        if (Root.Length > 0 && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
