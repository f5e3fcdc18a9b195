using ModelBuild.Compiler.Shapes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch.Cuda;
using ModelBuild.Runtime.Torch;

namespace ModelBuild.Compiler;

/// <summary>The manifest of an engine before validation fills in its cases.</summary>
internal static class ManifestBuilder
{
    public static EngineManifest Build(CompileOptions options, string graphName, SourceInfo source, string device, ShapeRanges ranges,
        IReadOnlyList<ManifestTensor> inputs, IReadOnlyList<ManifestTensor> outputs) => new()
    {
        Name = options.Name ?? DefaultName(options.ModelPath, graphName),
        Source = new ManifestSource(source.Format, Path.GetFileName(source.File), source.Sha256, source.TorchVersion),
        Toolchain = Toolchain.Manifest,
        Target = new ManifestTarget(device, ComputeCapability(device), options.Precision),
        Inputs = inputs,
        Outputs = outputs,
        Symbols = ranges.Symbols,
        Relations = ranges.Relations,
        Validation = [],
        RuntimeVersions = Toolchain.RuntimeRange,
        PayloadSha256 = "",
    };

    /// <summary>The capability of the device the engine was validated on (CUDA device 0, where compiling runs it).</summary>
    internal static string? ComputeCapability(string device) => device == "cuda" ? CudaComputeCapability.Of(0) : null;

    public static ManifestTensor Tensor(string name, TensorMeta meta) => new(name, meta.DType.ToString(), [.. meta.Sizes.Select(d => d.ToString())]);

    /// <summary>The file's name without its model extensions (model.core.pt2 -> model.core), unless the graph names itself.</summary>
    private static string DefaultName(string path, string graphName)
    {
        if (graphName.Length > 0 && graphName != "model")
        {
            return graphName;
        }
        var name = Path.GetFileName(path);
        foreach (var ext in new[] { ".pt2", ".ts.pt", ".pt", ".onnx" })
        {
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase))
            {
                return name[..^ext.Length];
            }
        }
        return name;
    }
}
