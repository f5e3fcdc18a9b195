namespace ModelBuild.Engine.Graph;

/// <summary>
/// What the compiler hands the runtime: the optimized nodes in execution order, which values are inputs, weights
/// and outputs, and the memory plan (the values whose last use is each node, freed right after it). Stored as JSON in
/// the engine's <c>__metadata__["plan"]</c>; weights live in the engine's tensors under their value names.
/// </summary>
public sealed record ExecutionPlan(
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<string> Weights,
    IReadOnlyList<GraphNode> Nodes,
    IReadOnlyList<IReadOnlyList<string>> FreeAfter)
{
    /// <summary>The device the plan's factory ops and weights target: "cpu" or "cuda".</summary>
    public string Device { get; init; } = "cpu";
}
