using ModelBuild.Engine.Graph;

namespace ModelBuild.Export.Pt2;

/// <summary>A weight the program's signature lifts to an input: its graph value, its state-dict name and kind.</summary>
internal sealed record WeightSpec(string ValueName, string StateName, WeightKind Kind, TensorMeta Meta);

/// <summary>
/// What the exported program's JSON says, before the weights' bytes are attached: the same in both PT2 layouts.
/// </summary>
internal sealed record ExportedProgram(
    string SchemaVersion,
    string? TorchVersion,
    IReadOnlyList<GraphValue> Inputs,
    IReadOnlyList<GraphValue> Outputs,
    IReadOnlyList<GraphNode> Nodes,
    IReadOnlyList<WeightSpec> Weights,
    IReadOnlyDictionary<string, TensorMeta> Values,
    IReadOnlyDictionary<string, string> SymIntValues,
    IReadOnlyDictionary<string, SymbolRange> Symbols,
    IReadOnlyList<RelationRange> Relations)
{
    /// <summary>User inputs written in place, in the order of the last <see cref="Outputs"/>, which hold their new values.</summary>
    public IReadOnlyList<string> MutatedInputs { get; init; } = [];
}

internal static class ExportedProgramGraph
{
    /// <summary>The graph IR of a program whose weights' bytes come from <paramref name="weights"/>.</summary>
    public static ModelGraph ToGraph(this ExportedProgram program, string name, SourceInfo source, IReadOnlyList<Weight> weights,
        IReadOnlyList<IReadOnlyList<long>>? exampleInputShapes) => new()
    {
        Name = name,
        Source = source,
        Inputs = program.Inputs,
        Outputs = program.Outputs,
        MutatedInputs = program.MutatedInputs,
        Nodes = program.Nodes,
        Weights = weights,
        Values = program.Values,
        Symbols = program.Symbols,
        Relations = program.Relations,
        SymIntValues = program.SymIntValues,
        ExampleInputShapes = exampleInputShapes,
    };
}
