using System.Runtime.InteropServices;
using ModelBuild.Compiler;
using ModelBuild.Diagnostics;

namespace ModelBuild.Cli;

/// <summary>
/// Makes libtorch loadable before TorchSharp first needs it (compile, verify, run, bench). modelc's packages (the .NET
/// tool, ModelBuild.Sdk's tools/modelc) carry no libtorch, 600 MB a platform, so it is looked for in this order:
/// beside modelc (a build or publish that bundles TorchSharp-cpu); the folder MODELBUILD_LIBTORCH_DIR names (the SDK's
/// build task passes the folder it resolved this way); the system loader's path (LD_LIBRARY_PATH); libtorch-cpu of
/// modelc's version in the NuGet global packages folder, where restoring a project that uses ModelBuild.Sdk, or
/// <c>dotnet package download</c>, puts it. Libraries found in a folder are loaded from it by full path, dependencies
/// first, so that TorchSharp's own library then resolves them by name.
/// </summary>
internal static class LibTorchLocator
{
    public const string DirectoryVariable = "MODELBUILD_LIBTORCH_DIR";

    private static bool _loaded;

    /// <exception cref="ModelBuildException">MB0010 when no libtorch is found, MB0011 when the one found does not load.</exception>
    public static void EnsureLoaded()
    {
        if (_loaded)
        {
            return;
        }
        var torchCpu = LibraryFile("torch_cpu");
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", Rid, "native", torchCpu))
            || File.Exists(Path.Combine(AppContext.BaseDirectory, torchCpu)))
        {
            _loaded = true;
            return;
        }
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
        {
            if (!File.Exists(Path.Combine(configured, torchCpu)))
            {
                throw new ModelBuildException(DiagnosticCodes.ModelcLibTorchMissing,
                    $"{DirectoryVariable} is '{configured}', which holds no {torchCpu}: point it at a folder of libtorch's libraries (for CUDA: PyTorch's torch/lib).");
            }
            LoadFrom(configured);
            return;
        }
        if (NativeLibrary.TryLoad(torchCpu, out _))
        {
            _loaded = true;
            return;
        }
        var packages = GlobalPackagesFolder();
        var cached = Path.Combine(packages, LibTorchPackage.ToLowerInvariant(), LibTorchVersion, "runtimes", Rid, "native");
        if (!File.Exists(Path.Combine(cached, torchCpu)))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelcLibTorchMissing,
                $"modelc runs models on libtorch {LibTorchVersion} and found none: not beside modelc, not in {DirectoryVariable}, not on the library path, " +
                $"not in the NuGet packages folder ({cached}). Download it there once with " +
                $"'dotnet package download {LibTorchPackage}@{LibTorchVersion} --output {packages}' (restoring a project that uses ModelBuild.Sdk does the same), " +
                $"or set {DirectoryVariable} to a folder of libtorch's libraries (for CUDA: PyTorch's torch/lib).");
        }
        LoadFrom(cached);
    }

    /// <summary>libtorch-cpu's package for this machine, e.g. <c>libtorch-cpu-linux-x64</c>.</summary>
    private static string LibTorchPackage => $"libtorch-cpu-{Rid}";

    /// <summary>The libtorch version modelc was built with (eng/Versions.props).</summary>
    private static string LibTorchVersion => Toolchain.Manifest.LibTorch;

    /// <summary>NUGET_PACKAGES, else ~/.nuget/packages: where restore extracts packages.</summary>
    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static void LoadFrom(string directory)
    {
        foreach (var name in new[] { "c10", "torch_cpu", "torch" })
        {
            var path = Path.Combine(directory, LibraryFile(name));
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new ModelBuildException(DiagnosticCodes.ModelcLibTorchLoadFailed,
                    $"libtorch in '{directory}' did not load: {e.Message}", path, e);
            }
        }
        _loaded = true;
    }

    private static string Rid =>
        $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";

    private static string LibraryFile(string name) =>
        OperatingSystem.IsWindows() ? $"{name}.dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";
}
