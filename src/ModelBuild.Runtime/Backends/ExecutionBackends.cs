using System.Collections.Concurrent;
using System.Reflection;
using ModelBuild.Diagnostics;

namespace ModelBuild.Runtime.Backends;

/// <summary>
/// Finds the backend a plan's block names. The backends ModelBuild ships live in their own packages, so that an app
/// carries only what its engines use (no libtorch for an engine that runs on ONNX Runtime alone): they are found by
/// type name in the assemblies the app references. Others can be registered.
/// </summary>
public static class ExecutionBackends
{
    /// <summary>The backends ModelBuild ships: name, implementing type, and the package an app references for it.</summary>
    private static readonly IReadOnlyDictionary<string, (string Type, string Package)> Known = new Dictionary<string, (string, string)>(StringComparer.Ordinal)
    {
        ["torch"] = ("ModelBuild.Runtime.Torch.TorchBackend, ModelBuild.Runtime.Torch", "ModelBuild.Runtime.Torch"),
        ["torchscript"] = ("ModelBuild.Runtime.Torch.TorchScriptBackend, ModelBuild.Runtime.Torch", "ModelBuild.Runtime.Torch"),
        ["onnxruntime"] = ("ModelBuild.Runtime.OnnxRuntime.OnnxRuntimeBackend, ModelBuild.Runtime.OnnxRuntime", "ModelBuild.Runtime.OnnxRuntime"),
    };

    private static readonly ConcurrentDictionary<string, IExecutionBackend> Resolved = new(StringComparer.Ordinal);

    /// <summary>Makes <paramref name="backend"/> the one that runs blocks of its name, in this process.</summary>
    public static void Register(IExecutionBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Resolved[backend.Name] = backend;
    }

    /// <summary>The package an app references to run blocks of <paramref name="name"/>, or null for a backend ModelBuild does not ship.</summary>
    public static string? PackageOf(string name) => Known.TryGetValue(name, out var known) ? known.Package : null;

    /// <summary>The backend of <paramref name="name"/>; a coded error naming the package when the app does not reference it.</summary>
    public static IExecutionBackend Get(string name, string file) => Resolved.GetOrAdd(name, n => Create(n, file));

    private static IExecutionBackend Create(string name, string file)
    {
        if (!Known.TryGetValue(name, out var known))
        {
            throw new ModelBuildException(DiagnosticCodes.BackendUnknown,
                $"the engine has a block for backend '{name}', which this runtime does not know (it knows {string.Join(", ", Known.Keys)}). Compile the model with a matching modelc.", file);
        }
        Type? type;
        try
        {
            type = Type.GetType(known.Type, throwOnError: false);
        }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException)
        {
            throw Missing(name, known.Package, file, e.Message);
        }
        if (type is null)
        {
            throw Missing(name, known.Package, file, null);
        }
        try
        {
            return (IExecutionBackend)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is DllNotFoundException or TypeInitializationException)
        {
            throw Missing(name, known.Package, file, e.InnerException.Message);
        }
    }

    private static ModelBuildException Missing(string name, string package, string file, string? why) =>
        new(DiagnosticCodes.BackendNotReferenced,
            $"the engine has blocks that run on backend '{name}', which is in the package {package}; the app does not reference it{(why is null ? "" : $" ({why})")}. Add <PackageReference Include=\"{package}\" />, or compile the model for a backend the app has (Backend=\"onnxruntime\").",
            file);
}
