using ModelBuild.Tests;

namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>A project folder under the workspace, built and run with the real dotnet CLI.</summary>
internal sealed class TestProject
{
    private TestProject(string directory, string name)
    {
        Directory = directory;
        Name = name;
    }

    public string Directory { get; }
    public string Name { get; }
    public string ProjectFile => Path.Combine(Directory, Name + ".csproj");
    public string OutputDirectory => Path.Combine(Directory, "bin", "Debug", "net10.0");
    public string ModelBuildDirectory => Path.Combine(Directory, "obj", "Debug", "net10.0", "modelbuild");

    /// <summary>A project that exists already (made by dotnet new): <paramref name="name"/>.csproj in <paramref name="directory"/>.</summary>
    public static TestProject At(string directory, string name) => new(directory, name);

    /// <param name="items">ModelCompile elements (and anything else) for the project's ItemGroup.</param>
    /// <param name="properties">extra PropertyGroup content.</param>
    public static TestProject Create(string name, string items, string properties = "", string? program = null)
    {
        var directory = Path.Combine(IntegrationWorkspace.Root, name);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "models"));
        var project = new TestProject(directory, name);
        project.WriteProject(items, properties);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program ?? "return 0;\n");
        return project;
    }

    public void WriteProject(string items, string properties) =>
        File.WriteAllText(ProjectFile, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Sdk Name="ModelBuild.Sdk" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RootNamespace>{Name}</RootNamespace>
                <ModelBuildCacheDir>{Path.Combine(Directory, ".cache")}</ModelBuildCacheDir>
                <!-- libtorch is 600 MB per output folder; link instead of copying. -->
                <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
            {properties}
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);

    /// <summary>Copies a fixture file into models/.</summary>
    public string AddFixture(string model, string file, string? as_ = null)
    {
        var destination = Path.Combine(Directory, "models", as_ ?? $"{model}{Path.GetExtension(file)}");
        File.Copy(TestPaths.Fixture(model, file), destination, overwrite: true);
        return destination;
    }

    public ProcessResult Build(params string[] arguments) => StartBuild(arguments).Wait();

    /// <summary>Starts a build and returns at once (for builds that run side by side, or are interrupted).</summary>
    public RunningProcess StartBuild(params string[] arguments) =>
        Start("dotnet", ["build", ProjectFile, "-nologo", "-v:n", "-nodeReuse:false", .. arguments]);

    /// <summary>Replays a binary log to the console logger: what the log holds, as the build printed it.</summary>
    public ProcessResult Replay(string binlog) => Run("dotnet", ["msbuild", binlog, "-nologo", "-v:m"]);

    public ProcessResult RunApp() => Run("dotnet", [Path.Combine(OutputDirectory, Name + ".dll")]);

    /// <summary>The line number of the first line of the project containing <paramref name="text"/>.</summary>
    public int LineOf(string text) =>
        File.ReadAllLines(ProjectFile).Select((l, i) => (l, i)).First(x => x.l.Contains(text, StringComparison.Ordinal)).i + 1;

    private ProcessResult Run(string file, string[] arguments) => DotnetCli.Run(Directory, file, arguments);

    private RunningProcess Start(string file, string[] arguments) => DotnetCli.Start(Directory, file, arguments);
}

internal sealed record ProcessResult(int ExitCode, string Output)
{
    /// <summary>Lines without the console logger's indentation and node prefix ("1>").</summary>
    public string[] Lines => Output.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Replace(l.Trim(), @"^\d+>", "").Trim()).ToArray();

    /// <summary>The models modelc was started for, from the SDK's progress messages.</summary>
    public string[] Compiled => Lines.Where(l => l.StartsWith("ModelBuild: ", StringComparison.Ordinal) && l.Contains(": compiling (", StringComparison.Ordinal))
        .Select(l => l.Split(" -> ")[1].Split(':')[0]).Order(StringComparer.Ordinal).ToArray();

    public override string ToString() => $"exit code {ExitCode}\n{Output}";
}
