using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using static TorchSharp.torch;

namespace ModelBuild.Cli;

/// <summary>
/// Loads an engine to run it (<c>run</c>, <c>verify</c>, <c>bench</c>), first turning what would otherwise fail inside
/// libtorch into coded errors: an unreadable file is MB4015, and an engine for CUDA where no CUDA device is, MB0006.
/// </summary>
internal static class EngineLoading
{
    public static CompiledModel Load(string path, ModelLoadOptions? options = null)
    {
        var bytes = SafetensorsFile.ReadAllBytes(path);
        var plan = EngineFile.Read(bytes, path, CompiledModel.RuntimeVersion).Plan;
        if (plan.Device == "cuda" && !cuda.is_available())
        {
            throw new ModelBuildException(DiagnosticCodes.CudaUnavailable,
                "the engine was compiled for cuda, and this machine has no CUDA device (or its libtorch has no CUDA): run it where the device is, or compile the model with --device cpu.", path);
        }
        return CompiledModel.Load(bytes, path, options ?? new ModelLoadOptions());
    }
}
