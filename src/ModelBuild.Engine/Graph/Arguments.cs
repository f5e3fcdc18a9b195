using System.Text.Json.Serialization;

namespace ModelBuild.Engine.Graph;

/// <summary>
/// A node argument or output, one case per argument kind of the torch.export schema (major 8) that ModelBuild uses.
/// Tensors and symbolic ints are referenced by value name; the plan JSON stores the same shapes.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(TensorArg), "tensor")]
[JsonDerivedType(typeof(TensorsArg), "tensors")]
[JsonDerivedType(typeof(OptionalTensorsArg), "optional_tensors")]
[JsonDerivedType(typeof(IntArg), "int")]
[JsonDerivedType(typeof(IntsArg), "ints")]
[JsonDerivedType(typeof(SymIntArg), "sym_int")]
[JsonDerivedType(typeof(SymIntsArg), "sym_ints")]
[JsonDerivedType(typeof(SymFloatArg), "sym_float")]
[JsonDerivedType(typeof(SymBoolArg), "sym_bool")]
[JsonDerivedType(typeof(FloatArg), "float")]
[JsonDerivedType(typeof(FloatsArg), "floats")]
[JsonDerivedType(typeof(BoolArg), "bool")]
[JsonDerivedType(typeof(BoolsArg), "bools")]
[JsonDerivedType(typeof(StringArg), "string")]
[JsonDerivedType(typeof(NoneArg), "none")]
[JsonDerivedType(typeof(ScalarTypeArg), "scalar_type")]
[JsonDerivedType(typeof(DeviceArg), "device")]
[JsonDerivedType(typeof(LayoutArg), "layout")]
[JsonDerivedType(typeof(MemoryFormatArg), "memory_format")]
[JsonDerivedType(typeof(GraphArg), "graph")]
public abstract record Argument;

/// <summary>A tensor argument or output.</summary>
/// <param name="Name">the tensor value's name in the graph.</param>
public sealed record TensorArg(string Name) : Argument;

/// <summary>A list of tensors (<c>cat</c>'s inputs, <c>split</c>'s outputs).</summary>
/// <param name="Names">the tensor values' names, in order.</param>
public sealed record TensorsArg(IReadOnlyList<string> Names) : Argument;

/// <summary>A list of tensors where some entries are None (e.g. index with optional indices).</summary>
/// <param name="Names">the tensor values' names, null where the entry is None.</param>
public sealed record OptionalTensorsArg(IReadOnlyList<string?> Names) : Argument;

/// <summary>An int argument (<c>dim</c>, <c>groups</c>).</summary>
/// <param name="Value">the int.</param>
public sealed record IntArg(long Value) : Argument;

/// <summary>A list of ints (<c>stride</c>, <c>padding</c>).</summary>
/// <param name="Values">the ints, in order.</param>
public sealed record IntsArg(IReadOnlyList<long> Values) : Argument;

/// <summary>A symbolic int: a literal, or the name of a sym-int value that a node computes (aten.sym_size.int, _operator.mul).</summary>
/// <param name="Value">the literal or the reference.</param>
public sealed record SymIntArg(SymInt Value) : Argument;

/// <summary>A list of symbolic ints (the sizes of <c>view</c> or <c>expand</c> when some are symbolic).</summary>
/// <param name="Values">each size: a literal or a reference to a sym-int value.</param>
public sealed record SymIntsArg(IReadOnlyList<SymInt> Values) : Argument;

/// <summary>A symbolic float: a literal, or the name of a sym-float value a node computes (<c>_operator.truediv</c>, <c>aten.item</c> of a float tensor).</summary>
/// <param name="Literal">the value when it is known; null for a reference.</param>
/// <param name="Name">the name of the sym-float value a node computes; null for a literal.</param>
public sealed record SymFloatArg(double? Literal, string? Name) : Argument;

/// <summary>A symbolic bool: a literal, or the name of a sym-bool value a node computes (<c>_operator.ge</c> feeding <c>aten._assert_scalar</c>).</summary>
/// <param name="Literal">the value when it is known; null for a reference.</param>
/// <param name="Name">the name of the sym-bool value a node computes; null for a literal.</param>
public sealed record SymBoolArg(bool? Literal, string? Name) : Argument;

/// <summary>A float argument (<c>eps</c>, <c>alpha</c>).</summary>
/// <param name="Value">the float.</param>
public sealed record FloatArg(double Value) : Argument;

/// <summary>A list of floats (<c>scale_factors</c>).</summary>
/// <param name="Values">the floats, in order.</param>
public sealed record FloatsArg(IReadOnlyList<double> Values) : Argument;

/// <summary>A bool argument (<c>keepdim</c>, <c>training</c>).</summary>
/// <param name="Value">the bool.</param>
public sealed record BoolArg(bool Value) : Argument;

/// <summary>A list of bools (<c>output_mask</c>).</summary>
/// <param name="Values">the bools, in order.</param>
public sealed record BoolsArg(IReadOnlyList<bool> Values) : Argument;

/// <summary>A string argument (<c>approximate="tanh"</c>, <c>rounding_mode</c>).</summary>
/// <param name="Value">the string.</param>
public sealed record StringArg(string Value) : Argument;

/// <summary>An argument given as None (an absent optional tensor, <c>bias=None</c>).</summary>
public sealed record NoneArg : Argument;

/// <summary>A dtype argument, as the export schema's ScalarType code (see <see cref="ExportScalarTypes"/>).</summary>
/// <param name="Code">the export schema's ScalarType code.</param>
public sealed record ScalarTypeArg(int Code) : Argument;

/// <summary>A device argument: "cpu" or "cuda" with an optional index. Compiler passes retarget these.</summary>
/// <param name="Type"><c>cpu</c> or <c>cuda</c>.</param>
/// <param name="Index">the device's index (<c>cuda:1</c>), null when the argument gives none.</param>
public sealed record DeviceArg(string Type, int? Index) : Argument;

/// <summary>A tensor layout argument (ModelBuild's tensors are strided, code 0 in the export schema).</summary>
/// <param name="Code">the export schema's Layout code.</param>
public sealed record LayoutArg(int Code) : Argument;

/// <summary>A memory format argument (<c>contiguous_format</c>, <c>channels_last</c>); ModelBuild's tensors are contiguous.</summary>
/// <param name="Code">the export schema's MemoryFormat code.</param>
public sealed record MemoryFormatArg(int Code) : Argument;

/// <summary>
/// A subgraph argument of a higher-order operator (<c>cond</c>'s branches, <c>map_impl</c>'s body, <c>while_loop</c>'s
/// condition and body, the region of <c>wrap_with_set_grad_enabled</c>/<c>wrap_with_autocast</c>), named as the archive
/// names the submodule (<c>true_graph_0</c>).
/// </summary>
/// <param name="Name">the submodule's name in the archive.</param>
/// <param name="Graph">its nodes, inputs and outputs.</param>
public sealed record GraphArg(string Name, Subgraph Graph) : Argument;

/// <summary>Either a literal (<see cref="Literal"/>) or a reference to a sym-int value (<see cref="Name"/>).</summary>
/// <param name="Literal">the size when it is known; null for a reference.</param>
/// <param name="Name">the name of the sym-int value a node computes; null for a literal.</param>
public sealed record SymInt(long? Literal, string? Name)
{
    /// <summary>A literal size.</summary>
    public static SymInt Of(long value) => new(value, null);

    /// <summary>A reference to the sym-int value <paramref name="name"/>.</summary>
    public static SymInt Ref(string name) => new(null, name);

    /// <summary>The referenced name, or the literal in invariant culture.</summary>
    public override string ToString() => Name ?? Literal!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
