using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// The value names (tensors and sym values) that arguments read and nodes write. A subgraph argument reads nothing of
/// the graph around it: it sees only its own inputs, which the operator's other arguments bind.
/// </summary>
public static class GraphValueNames
{
    public static IEnumerable<string> Read(Argument argument) => argument switch
    {
        TensorArg t => [t.Name],
        TensorsArg ts => ts.Names,
        OptionalTensorsArg ots => ots.Names.OfType<string>(),
        SymIntArg s => s.Value.Name is { } n ? [n] : [],
        SymIntsArg ss => ss.Values.Select(v => v.Name).OfType<string>(),
        SymFloatArg { Name: { } n } => [n],
        SymBoolArg { Name: { } n } => [n],
        _ => [],
    };

    public static IEnumerable<string> Reads(this GraphNode node) => node.Inputs.SelectMany(i => Read(i.Value));

    /// <summary>The tensor values (not sym-ints) an argument reads or writes.</summary>
    public static IEnumerable<string> Tensors(Argument argument) => argument switch
    {
        TensorArg t => [t.Name],
        TensorsArg ts => ts.Names,
        OptionalTensorsArg ots => ots.Names.OfType<string>(),
        _ => [],
    };

    public static IEnumerable<string> Writes(this GraphNode node) => node.Outputs.SelectMany(Read);

    /// <summary>The name a node is known by in messages: its first output, as torch.export names nodes.</summary>
    public static string DisplayName(this GraphNode node) => node.Writes().FirstOrDefault() ?? node.Target;

    /// <summary>Replaces every read of a value by another value.</summary>
    public static Argument Rename(Argument argument, IReadOnlyDictionary<string, string> renames)
    {
        string R(string n) => renames.TryGetValue(n, out var to) ? to : n;
        SymInt RS(SymInt s) => s.Name is { } n ? SymInt.Ref(R(n)) : s;
        return argument switch
        {
            TensorArg t => new TensorArg(R(t.Name)),
            TensorsArg ts => new TensorsArg([.. ts.Names.Select(R)]),
            OptionalTensorsArg ots => new OptionalTensorsArg([.. ots.Names.Select(n => n is null ? null : R(n))]),
            SymIntArg s => new SymIntArg(RS(s.Value)),
            SymIntsArg ss => new SymIntsArg([.. ss.Values.Select(RS)]),
            SymFloatArg { Name: { } n } f => f with { Name = R(n) },
            SymBoolArg { Name: { } n } b => b with { Name = R(n) },
            _ => argument,
        };
    }
}
