using System.Text.Json.Serialization;

namespace ModelBuild.Engine.Manifest;

/// <summary>
/// What an engine was compiled from, for, and validated at (DESIGN.md decision 5). Stored as JSON in the engine's
/// <c>__metadata__["manifest"]</c>; <see cref="SchemaVersion"/> changes when a reader of the previous one would misread it.
/// </summary>
public sealed record EngineManifest
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int CurrentSchemaVersion = 4;

    /// <summary>The manifest's schema version; an engine of another version is refused at load (MB4004).</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    /// <summary>The model's name (the ModelCompile item's ModelName, or the file name).</summary>
    public required string Name { get; init; }
    /// <summary>The model file the engine was compiled from.</summary>
    public required ManifestSource Source { get; init; }
    /// <summary>The versions of ModelBuild, TorchSharp and libtorch that compiled it.</summary>
    public required ManifestToolchain Toolchain { get; init; }
    /// <summary>The device, compute capability and precision it was compiled for.</summary>
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

/// <summary>The model file an engine was compiled from.</summary>
/// <param name="Format">pt2, pt2-legacy, torchscript, onnx.</param>
/// <param name="File">the file's name as it was given to the compiler.</param>
/// <param name="Sha256">SHA-256 of the file (lowercase hex).</param>
/// <param name="TorchVersion">the PyTorch version that wrote it, when the file records one.</param>
public sealed record ManifestSource(string Format, string File, string Sha256, string? TorchVersion);

/// <summary>The toolchain that compiled an engine.</summary>
/// <param name="ModelBuild">the modelc version (with the commit it was built from).</param>
/// <param name="TorchSharp">the TorchSharp version that validated it.</param>
/// <param name="LibTorch">the libtorch version underneath.</param>
public sealed record ManifestToolchain(string ModelBuild, string TorchSharp, string LibTorch);

/// <summary>What an engine was compiled for.</summary>
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

/// <summary>An input or output of an engine.</summary>
/// <param name="Name">the name in the exported model (the accessor's parameter name).</param>
/// <param name="DType">safetensors dtype name (F32, I64, ...).</param>
/// <param name="Dims">each dim: an int literal ("3") or an expression of symbols ("s77", "8*s69").</param>
public sealed record ManifestTensor(string Name, [property: JsonPropertyName("dtype")] string DType, IReadOnlyList<string> Dims);

/// <summary>A symbol's compiled range; <see cref="Opt"/> is the size the engine is tuned for.</summary>
/// <param name="Min">the smallest value the engine accepts.</param>
/// <param name="Opt">the value it is tuned for, validated like the ends.</param>
/// <param name="Max">the largest value the engine accepts.</param>
public sealed record ManifestSymbol(long Min, long Opt, long Max);

/// <summary>The range of an expression of symbols (<c>8*s69</c> in 16..128) that inputs must also satisfy (MB5006).</summary>
/// <param name="Expr">the expression in PyTorch's str form.</param>
/// <param name="Min">the smallest value it may take.</param>
/// <param name="Max">the largest value it may take.</param>
public sealed record ManifestRelation(string Expr, long Min, long Max);

/// <summary>One block of the plan as inspection shows it.</summary>
/// <param name="Backend">the backend that runs it.</param>
/// <param name="OpCount">how many graph nodes it runs.</param>
/// <param name="Inputs">the values it reads.</param>
/// <param name="Outputs">the values it makes for later blocks or the outputs.</param>
public sealed record ManifestBlock(string Backend, int OpCount, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>Why a CUDA engine may not replay this block as a CUDA graph; null when it may.</summary>
    public string? NotCapturable { get; init; }
}

/// <param name="Requested">auto, torch or onnxruntime: what the item or --backend asked for.</param>
/// <param name="Chosen">the candidate the engine holds.</param>
/// <param name="Candidates">each candidate built, with its median latency at <c>opt</c> on the build machine (auto only; otherwise the one built, unmeasured).</param>
public sealed record ManifestBackendSelection(string Requested, string Chosen, IReadOnlyList<ManifestBackendCandidate> Candidates);

/// <summary>One candidate plan built for <c>--backend auto</c>.</summary>
/// <param name="Backend">the candidate: torch (every node on TorchSharp), onnxruntime (ONNX Runtime where it lowers, TorchSharp for the rest),
/// onnxruntime-1thread (that plan with ONNX Runtime on one intra-op thread; built where the build machine has more than one processor).</param>
/// <param name="OptMicroseconds">median latency at opt on the build machine; null when not measured.</param>
/// <param name="BlockBackends">the backend of each block of its plan, in order.</param>
public sealed record ManifestBackendCandidate(string Backend, double? OptMicroseconds, IReadOnlyList<string> BlockBackends);

/// <summary>One case the engine was validated at, with its errors.</summary>
/// <param name="Name"><c>min</c>, <c>opt</c> and <c>max</c> (every symbol at that end of its range), <c>static</c> for a model without symbols, or a case of a cases file.</param>
/// <param name="Symbols">the symbol values of the case.</param>
/// <param name="InputShapes">the concrete input shapes.</param>
/// <param name="MaxAbsError">the largest absolute difference of any output element.</param>
/// <param name="MaxRelError">the largest relative difference of any output element.</param>
/// <param name="Tolerance">atol = rtol the case had to meet.</param>
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

    /// <summary>
    /// For an fp16/bf16 engine, the <see cref="ScaledError"/> of its eager reference (the unoptimized graph lowered to the
    /// precision and interpreted on the engine's device) against the same expected outputs; each output's bound is at
    /// least twice eager's. Null for fp32 engines and for engines compiled before it was recorded.
    /// </summary>
    public double? EagerScaledError { get; init; }

    /// <summary>For an fp16/bf16 engine, the <see cref="CosineSimilarity"/> of its eager reference; null as <see cref="EagerScaledError"/> is.</summary>
    public double? EagerCosineSimilarity { get; init; }
}
