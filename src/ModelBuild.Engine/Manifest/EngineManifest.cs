using System.Text.Json.Serialization;

namespace ModelBuild.Engine.Manifest;

/// <summary>
/// What an engine was compiled from, for, and validated at (DESIGN.md decision 5). Stored as JSON in the engine's
/// <c>__metadata__["manifest"]</c>; <see cref="SchemaVersion"/> changes when a reader of the previous one would misread it.
/// </summary>
public sealed record EngineManifest
{
    public const int CurrentSchemaVersion = 3;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string Name { get; init; }
    public required ManifestSource Source { get; init; }
    public required ManifestToolchain Toolchain { get; init; }
    public required ManifestTarget Target { get; init; }
    /// <summary>User inputs in export order.</summary>
    public required IReadOnlyList<ManifestTensor> Inputs { get; init; }
    /// <summary>Outputs in export order; dims may be expressions of the input symbols.</summary>
    public required IReadOnlyList<ManifestTensor> Outputs { get; init; }
    /// <summary>Every symbol with the range the engine was compiled and validated for.</summary>
    public required IReadOnlyDictionary<string, ManifestSymbol> Symbols { get; init; }
    /// <summary>Ranges of expressions of symbols (<c>8*s69</c> in 16..128).</summary>
    public required IReadOnlyList<ManifestRelation> Relations { get; init; }
    /// <summary>The plan's blocks: which backend runs how many nodes, reading and writing which values.</summary>
    public IReadOnlyList<ManifestBlock> Blocks { get; init; } = [];
    /// <summary>How the backends were chosen: what was asked, the candidates measured (with <c>auto</c>) and the one kept.</summary>
    public ManifestBackendSelection? BackendSelection { get; init; }
    /// <summary>
    /// User inputs the model writes in place, as PyTorch's graph signature records them (USER_INPUT_MUTATION): the plan's
    /// outputs after the ones of <see cref="Outputs"/> hold their new values, in this order, and the runtime writes
    /// them into the caller's tensors.
    /// </summary>
    public IReadOnlyList<string> MutatedInputs { get; init; } = [];
    /// <summary>The cases the engine was checked at, with their errors against the reference.</summary>
    public required IReadOnlyList<ManifestValidationCase> Validation { get; init; }
    /// <summary>NuGet VersionRange of ModelBuild.Runtime versions that may load this engine.</summary>
    public required string RuntimeVersions { get; init; }
    /// <summary>SHA-256 (lowercase hex) over the payload (all tensor bytes and the plan JSON), checked at load.</summary>
    public required string PayloadSha256 { get; init; }
}

/// <param name="Format">pt2, pt2-legacy, torchscript, onnx.</param>
public sealed record ManifestSource(string Format, string File, string Sha256, string? TorchVersion);

public sealed record ManifestToolchain(string ModelBuild, string TorchSharp, string LibTorch);

/// <param name="Device">cpu or cuda.</param>
/// <param name="ComputeCapability">e.g. "9.0" for cuda; null for cpu.</param>
/// <param name="Precision">fp32, fp16 or bf16.</param>
public sealed record ManifestTarget(string Device, string? ComputeCapability, string Precision)
{
    /// <summary>
    /// The dtype of float inputs and outputs at the engine's boundary. With fp16/bf16 precision the runtime casts
    /// float inputs from it to the precision on entry and float outputs back to it.
    /// </summary>
    public string FloatBoundaryDType { get; init; } = "F32";
}

/// <param name="DType">safetensors dtype name (F32, I64, ...).</param>
/// <param name="Dims">each dim: an int literal ("3") or an expression of symbols ("s77", "8*s69").</param>
public sealed record ManifestTensor(string Name, [property: JsonPropertyName("dtype")] string DType, IReadOnlyList<string> Dims);

/// <summary>A symbol's compiled range; <see cref="Opt"/> is the size the engine is tuned for.</summary>
public sealed record ManifestSymbol(long Min, long Opt, long Max);

public sealed record ManifestRelation(string Expr, long Min, long Max);

/// <summary>One block of the plan as inspection shows it.</summary>
public sealed record ManifestBlock(string Backend, int OpCount, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <param name="Requested">auto, torch or onnxruntime: what the item or --backend asked for.</param>
/// <param name="Chosen">the candidate the engine holds.</param>
/// <param name="Candidates">each candidate built, with its median latency at <c>opt</c> on the build machine (auto only; otherwise the one built, unmeasured).</param>
public sealed record ManifestBackendSelection(string Requested, string Chosen, IReadOnlyList<ManifestBackendCandidate> Candidates);

/// <param name="Backend">the candidate: torch (every node on TorchSharp), onnxruntime (ONNX Runtime where it lowers, TorchSharp for the rest).</param>
/// <param name="OptMicroseconds">median latency at opt on the build machine; null when not measured.</param>
public sealed record ManifestBackendCandidate(string Backend, double? OptMicroseconds, IReadOnlyList<string> BlockBackends);

/// <param name="Symbols">the symbol values of the case.</param>
/// <param name="InputShapes">the concrete input shapes.</param>
public sealed record ManifestValidationCase(
    string Name,
    IReadOnlyDictionary<string, long> Symbols,
    IReadOnlyList<IReadOnlyList<long>> InputShapes,
    double MaxAbsError,
    double MaxRelError,
    double Tolerance)
{
    /// <summary>
    /// What the engine's outputs were compared with: <c>reference</c> (the unoptimized graph interpreted in fp32 on
    /// CPU), <c>cases</c> (the expected outputs of a cases file), or <c>torchscript</c> (the same TorchScript module
    /// run directly, which proves the engine round trip, not the model).
    /// </summary>
    public string ComparedWith { get; init; } = "reference";

    /// <summary>
    /// The measure <see cref="Tolerance"/> bounds: over every output, the largest |a - b| / (|b| + s), s being the
    /// root-mean-square of the expected output, so that it means the same for outputs near 1e-8 and near 1e3.
    /// </summary>
    public double ScaledError { get; init; }

    /// <summary>The least cosine similarity of an engine output with the expected one (1 when equal).</summary>
    public double CosineSimilarity { get; init; } = 1;

    /// <summary>The least cosine similarity the case had to reach (per precision: 0.9999 fp32, 0.999 fp16, 0.99 bf16).</summary>
    public double MinCosineSimilarity { get; init; }
}
