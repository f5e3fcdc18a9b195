using System;
using System.IO;
using System.Runtime.InteropServices;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// Which modelc runs and on which libtorch, with overrides in a fixed order: the MSBuild property, then the
/// environment variable, then what the SDK brings. An error names every override so the user knows what to set.
/// </summary>
public static class ModelcToolSelection
{
    public const string ModelcProperty = "ModelBuildModelcPath";
    public const string ModelcVariable = "MODELBUILD_MODELC";
    public const string LibTorchProperty = "ModelBuildLibTorchDir";
    public const string LibTorchVariable = "MODELBUILD_LIBTORCH_DIR";

    /// <returns>modelc's path: a .dll (run with the dotnet host) or an executable.</returns>
    /// <exception cref="ModelBuildException">MB6009.</exception>
    public static string ResolveModelc(string? property, string? sdkDefault, Func<string, string?> environment)
    {
        var (path, source) = Pick(property, ModelcProperty, environment(ModelcVariable), ModelcVariable, sdkDefault);
        if (path is null || !File.Exists(path))
        {
            throw new ModelBuildException(DiagnosticCodes.ModelcNotFound,
                $"modelc was not found{(path is null ? "" : $" at '{path}' (from {source})")}. Set the property {ModelcProperty} or the environment variable " +
                $"{ModelcVariable} to modelc's path (modelc.dll or an executable), in that order of precedence, or restore ModelBuild.Sdk again.");
        }
        return Path.GetFullPath(path);
    }

    /// <returns>the folder holding libtorch's native libraries.</returns>
    /// <exception cref="ModelBuildException">MB6010.</exception>
    public static string ResolveLibTorch(string? property, string? sdkDefault, Func<string, string?> environment)
    {
        var (dir, source) = Pick(property, LibTorchProperty, environment(LibTorchVariable), LibTorchVariable, sdkDefault);
        if (dir is null || !File.Exists(Path.Combine(dir, TorchCpuLibrary)))
        {
            throw new ModelBuildException(DiagnosticCodes.LibTorchNotFound,
                $"libtorch was not found{(dir is null ? "" : $": '{dir}' (from {source}) holds no {TorchCpuLibrary}")}. Restore the project again " +
                $"(ModelBuild.Sdk downloads libtorch-cpu), or set the property {LibTorchProperty} or the environment variable {LibTorchVariable}, " +
                "in that order of precedence, to a folder holding libtorch's libraries (for CUDA: PyTorch's torch/lib).");
        }
        return Path.GetFullPath(dir);
    }

    /// <summary>The variable through which the child finds libtorch's libraries on this OS.</summary>
    public static string LibraryPathVariable =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "PATH"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "DYLD_LIBRARY_PATH"
        : "LD_LIBRARY_PATH";

    private static string TorchCpuLibrary =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "torch_cpu.dll"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libtorch_cpu.dylib"
        : "libtorch_cpu.so";

    private static (string? Value, string Source) Pick(string? property, string propertyName, string? variable, string variableName, string? sdkDefault) =>
        !string.IsNullOrWhiteSpace(property) ? (property!.Trim(), $"property {propertyName}")
        : !string.IsNullOrWhiteSpace(variable) ? (variable!.Trim(), $"environment variable {variableName}")
        : !string.IsNullOrWhiteSpace(sdkDefault) ? (sdkDefault!.Trim(), "ModelBuild.Sdk")
        : (null, "nowhere");
}
