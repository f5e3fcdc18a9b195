namespace ModelBuild.Engine.Graph;

/// <summary>
/// What the compiler hands the runtime: the model's inputs and outputs (value names) and the blocks that compute the
/// outputs, in execution order. Each block belongs to one execution backend, which the partitioner chose per node.
/// Stored as JSON in the engine's <c>__metadata__["plan"]</c>; weights and compiled payloads live in the engine's tensors.
/// </summary>
/// <param name="Inputs">the model's inputs, in export order.</param>
/// <param name="Outputs">the model's outputs, in export order.</param>
/// <param name="Blocks">the blocks in execution order.</param>
public sealed record ExecutionPlan(IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<PlanBlock> Blocks)
{
    /// <summary>The device the plan targets: "cpu" or "cuda".</summary>
    public string Device { get; init; } = "cpu";
}

/// <summary>
/// A block of nodes one backend runs: the values it reads from the model's inputs or from earlier blocks, and the values
/// later blocks or the model's outputs read from it (tensors, or sym-ints as 0-d int64 values).
/// A backend that runs the IR itself keeps <see cref="Nodes"/> (with the weights they read and the memory plan); a
/// backend that compiles keeps its bytes in the engine tensor named <see cref="Payload"/>.
/// </summary>
/// <param name="Backend">torch, torchscript or onnxruntime.</param>
/// <param name="Inputs">the values the block reads, in the order its runner takes them.</param>
/// <param name="Outputs">the values it makes that later blocks or the model's outputs read, in the order it returns them.</param>
public sealed record PlanBlock(string Backend, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>The nodes in execution order, for backends that interpret the graph IR.</summary>
    public IReadOnlyList<GraphNode>? Nodes { get; init; }

    /// <summary>The engine tensors the nodes read by value name.</summary>
    public IReadOnlyList<string> Weights { get; init; } = [];

    /// <summary>Per node, the values whose last use it is (freed right after it); empty for no memory plan.</summary>
    public IReadOnlyList<IReadOnlyList<string>> FreeAfter { get; init; } = [];

    /// <summary>The U8 engine tensor holding the block's compiled bytes, for backends that compile.</summary>
    public string? Payload { get; init; }

    /// <summary>How many graph nodes the block runs (for inspection; a compiled payload may fuse them).</summary>
    public int OpCount { get; init; }

    /// <summary>Why the block may not be captured as a CUDA graph (an op that synchronizes with the host, random numbers, data-dependent control flow); null when it may.</summary>
    public string? NotCapturable { get; init; }

    /// <summary>
    /// For a backend with a thread pool of its own (ONNX Runtime), how many threads one run of the block uses: chosen by
    /// measurement at compile time, and never more than the processors the process may run on; null for one per such processor.
    /// </summary>
    public int? Threads { get; init; }
}
