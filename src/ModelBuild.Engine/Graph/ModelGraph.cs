using System.Text.Json.Serialization;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Engine.Graph;

/// <summary>
/// One size of a tensor: a known int, or a symbolic expression in the str form torch.export prints
/// (<c>s77</c>, <c>8*s69</c>, <c>((s0 - 5)//3) + 1</c>). Parse <see cref="Expr"/> with <c>SymExpr.Parse</c>.
/// </summary>
/// <param name="Value">the size when it is static; null when symbolic.</param>
/// <param name="Expr">the symbolic expression; null when static.</param>
public sealed record Dim(long? Value, string? Expr)
{
    /// <summary>A static size.</summary>
    public static Dim Of(long value) => new(value, null);

    /// <summary>A symbolic size, e.g. <c>s77</c> or <c>8*s69</c>.</summary>
    public static Dim Symbolic(string expr) => new(null, expr);

    /// <summary>Whether the size is a known int.</summary>
    public bool IsStatic => Value.HasValue;

    /// <summary>The expression, or the size in invariant culture.</summary>
    public override string ToString() => Expr ?? Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>dtype and sizes of a tensor value. Strides are not kept: ModelBuild's tensors are contiguous.</summary>
/// <param name="DType">the element type.</param>
/// <param name="Sizes">one <see cref="Dim"/> per dimension, outermost first.</param>
public sealed record TensorMeta(TensorDType DType, IReadOnlyList<Dim> Sizes)
{
    /// <summary>The number of dimensions.</summary>
    public int Rank => Sizes.Count;
}

/// <summary>A node: an operator target (<c>torch.ops.aten.linear.default</c>, <c>_operator.mul</c>) with named arguments.</summary>
/// <param name="Target">the operator, as the export schema names it.</param>
/// <param name="Inputs">the arguments by schema name, in schema order.</param>
/// <param name="Outputs">the values the node produces.</param>
public sealed record GraphNode(string Target, IReadOnlyList<NamedArgument> Inputs, IReadOnlyList<Argument> Outputs)
{
    /// <summary>Where the node came from (the PyTorch stack trace's last line), for error messages; may be empty.</summary>
    public string Origin { get; init; } = "";
}

/// <summary>
/// The graph of a higher-order operator's <see cref="GraphArg"/>: nodes of the same IR in their own scope. They read only
/// the subgraph's <see cref="Inputs"/> (torch.export lifts every closed-over tensor, weights included, into operands of
/// the operator), which each call binds to values the operator passes; the call returns the values <see cref="Outputs"/> name.
/// </summary>
/// <param name="Inputs">tensors, or sym-ints, by value name.</param>
/// <param name="Outputs">what a call returns, in order: tensors or sym-ints by value name.</param>
/// <param name="Nodes">the subgraph's nodes in topological order.</param>
public sealed record Subgraph(IReadOnlyList<Argument> Inputs, IReadOnlyList<Argument> Outputs, IReadOnlyList<GraphNode> Nodes)
{
    /// <summary>
    /// dtype and sizes of the subgraph's tensor values by name, as the archive records them in the subgraph's scope; for
    /// the passes that move its nodes into the graph around it. Engines' plans do not keep them.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, TensorMeta> Values { get; init; } = new Dictionary<string, TensorMeta>();
}

/// <summary>An argument as the schema names it (<c>input</c>, <c>weight</c>, <c>stride</c>); <see cref="KwargOnly"/> for keyword-only ones.</summary>
/// <param name="Name">the parameter's name in the operator's schema.</param>
/// <param name="Value">the argument.</param>
/// <param name="KwargOnly">whether the schema declares it keyword-only.</param>
public sealed record NamedArgument(string Name, Argument Value, bool KwargOnly = false);

/// <summary>What a weight is in the exported program's signature.</summary>
public enum WeightKind
{
    /// <summary>A trained parameter (<c>nn.Parameter</c>).</summary>
    Parameter,
    /// <summary>A registered buffer (batch norm's running statistics).</summary>
    Buffer,
    /// <summary>A tensor constant the export lifted out of the code (<c>position_ids</c>).</summary>
    Constant,
}

/// <summary>
/// A weight the graph reads by <see cref="ValueName"/> (<c>p_c1_weight</c>), stored as <see cref="StateName"/>
/// (<c>c1.weight</c>). The bytes are contiguous, row-major, little-endian, and read only when asked for.
/// </summary>
/// <param name="ValueName">the name the graph's nodes use.</param>
/// <param name="StateName">the name in the model's state dict.</param>
/// <param name="Kind">parameter, buffer or constant.</param>
/// <param name="Meta">dtype and (static) sizes.</param>
/// <param name="Read">reads the bytes from the archive.</param>
public sealed record Weight(string ValueName, string StateName, WeightKind Kind, TensorMeta Meta, Func<ReadOnlyMemory<byte>> Read);

/// <summary>A user input or output: the graph's value name and its tensor metadata.</summary>
/// <param name="Name">the value's name in the graph.</param>
/// <param name="Meta">dtype and sizes.</param>
public sealed record GraphValue(string Name, TensorMeta Meta);

/// <summary>The inclusive range of one symbol; <see cref="Max"/> is null when unbounded.</summary>
/// <param name="Min">the smallest value.</param>
/// <param name="Max">the largest value; null when unbounded.</param>
public sealed record SymbolRange(long Min, long? Max);

/// <summary>
/// A constraint torch.export keyed by an expression rather than a symbol (<c>8*s69</c> in 16..128): the expression's
/// value must lie in the range.
/// </summary>
/// <param name="Expr">the expression in str form.</param>
/// <param name="Min">the smallest value it may take.</param>
/// <param name="Max">the largest value it may take; null when unbounded.</param>
public sealed record RelationRange(string Expr, long Min, long? Max);

/// <summary>Where a graph came from.</summary>
/// <param name="Format"><c>pt2</c>, <c>pt2-legacy</c>, <c>torchscript</c> or <c>onnx</c>.</param>
/// <param name="File">the model file's path.</param>
/// <param name="Sha256">SHA-256 of the file (lowercase hex).</param>
/// <param name="TorchVersion">the PyTorch version that wrote it, when recorded.</param>
/// <param name="SchemaVersion">the format's schema version (<c>8.17</c>), when recorded.</param>
public sealed record SourceInfo(string Format, string File, string Sha256, string? TorchVersion, string? SchemaVersion);

/// <summary>
/// The graph IR every front end produces and every compiler pass consumes: user inputs and outputs in export
/// order, nodes in topological order, weights, tensor metadata of every value, and the symbol table.
/// </summary>
public sealed class ModelGraph
{
    /// <summary>The model's name (the program's name in the archive, or the file name).</summary>
    public required string Name { get; init; }
    /// <summary>The file, format and versions it was read from.</summary>
    public required SourceInfo Source { get; init; }
    /// <summary>User inputs in export order.</summary>
    public required IReadOnlyList<GraphValue> Inputs { get; init; }
    /// <summary>The user outputs, then the values the <see cref="MutatedInputs"/> hold after the call, one each in that order.</summary>
    public required IReadOnlyList<GraphValue> Outputs { get; init; }
    /// <summary>
    /// User inputs the model writes in place (torch.export's USER_INPUT_MUTATION), in the order of the last outputs that
    /// hold their new values. PyTorch leaves the new values in the caller's tensors; so does the runtime.
    /// </summary>
    public IReadOnlyList<string> MutatedInputs { get; init; } = [];
    /// <summary>The outputs the model returns, without the new values of <see cref="MutatedInputs"/>.</summary>
    public IEnumerable<GraphValue> UserOutputs => Outputs.Take(Outputs.Count - MutatedInputs.Count);
    /// <summary>Nodes in topological order.</summary>
    public required IReadOnlyList<GraphNode> Nodes { get; init; }
    /// <summary>Parameters, buffers and constants the nodes read.</summary>
    public required IReadOnlyList<Weight> Weights { get; init; }
    /// <summary>Metadata of every tensor value by name (inputs, weights, node outputs).</summary>
    public required IReadOnlyDictionary<string, TensorMeta> Values { get; init; }
    /// <summary>Every symbol of the sizes, with its range.</summary>
    public required IReadOnlyDictionary<string, SymbolRange> Symbols { get; init; }
    /// <summary>Ranges keyed by an expression of symbols.</summary>
    public required IReadOnlyList<RelationRange> Relations { get; init; }
    /// <summary>
    /// The value of every sym-int a node computes (<c>sym_size_int_2</c> -> <c>s23</c>, <c>mul_22</c> -> <c>s23*s27</c>),
    /// in str form; empty when the graph computes none.
    /// </summary>
    public IReadOnlyDictionary<string, string> SymIntValues { get; init; } = new Dictionary<string, string>();
    /// <summary>
    /// True when the source format records no ranges (TorchScript, ONNX): <see cref="Symbols"/> is empty and every range
    /// must come from the user. TorchScript records no sizes at all: its inputs' sizes are empty (rank unknown) and its
    /// outputs are not listed.
    /// </summary>
    public bool RangesFromUser { get; init; }
    /// <summary>Shapes of the example inputs the model was exported with, when the archive keeps them (the default <c>opt</c>).</summary>
    public IReadOnlyList<IReadOnlyList<long>>? ExampleInputShapes { get; init; }
}
