namespace ModelBuild.Runtime;

/// <summary>How to load a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Where to run ("cpu", "cuda", "cuda:N"); null: the device the engine was compiled for.</summary>
    public string? Device { get; init; }

    /// <summary>
    /// Whether CUDA engines replay captured CUDA graphs (one launch per run) instead of launching every kernel; on by
    /// default, off when the environment variable MODELBUILD_CUDA_GRAPHS is 0. Engines whose plans cannot be captured,
    /// and processes where graphs do not work, run without them and say why in <see cref="CompiledModel.Notes"/>.
    /// </summary>
    public bool CudaGraphs { get; init; } = Environment.GetEnvironmentVariable("MODELBUILD_CUDA_GRAPHS") != "0";

    /// <summary>How many input shapes keep a captured graph at once (each holds its own memory); the least recently used goes first.</summary>
    public int MaxCudaGraphs { get; init; } = 8;
}
