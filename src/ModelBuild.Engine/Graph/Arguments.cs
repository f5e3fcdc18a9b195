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

public sealed record TensorArg(string Name) : Argument;

public sealed record TensorsArg(IReadOnlyList<string> Names) : Argument;

/// <summary>A list of tensors where some entries are None (e.g. index with optional indices).</summary>
public sealed record OptionalTensorsArg(IReadOnlyList<string?> Names) : Argument;

public sealed record IntArg(long Value) : Argument;

public sealed record IntsArg(IReadOnlyList<long> Values) : Argument;

/// <summary>A symbolic int: a literal, or the name of a sym-int value that a node computes (aten.sym_size.int, _operator.mul).</summary>
public sealed record SymIntArg(SymInt Value) : Argument;

public sealed record SymIntsArg(IReadOnlyList<SymInt> Values) : Argument;

/// <summary>A symbolic float: a literal, or the name of a sym-float value a node computes (<c>_operator.truediv</c>, <c>aten.item</c> of a float tensor).</summary>
public sealed record SymFloatArg(double? Literal, string? Name) : Argument;

/// <summary>A symbolic bool: a literal, or the name of a sym-bool value a node computes (<c>_operator.ge</c> feeding <c>aten._assert_scalar</c>).</summary>
public sealed record SymBoolArg(bool? Literal, string? Name) : Argument;

public sealed record FloatArg(double Value) : Argument;

public sealed record FloatsArg(IReadOnlyList<double> Values) : Argument;

public sealed record BoolArg(bool Value) : Argument;

public sealed record BoolsArg(IReadOnlyList<bool> Values) : Argument;

public sealed record StringArg(string Value) : Argument;

public sealed record NoneArg : Argument;

/// <summary>A dtype argument, as the export schema's ScalarType code (see <see cref="ExportScalarTypes"/>).</summary>
public sealed record ScalarTypeArg(int Code) : Argument;

/// <summary>A device argument: "cpu" or "cuda" with an optional index. Compiler passes retarget these.</summary>
public sealed record DeviceArg(string Type, int? Index) : Argument;

public sealed record LayoutArg(int Code) : Argument;

public sealed record MemoryFormatArg(int Code) : Argument;

/// <summary>
/// A subgraph argument of a higher-order operator (<c>cond</c>'s branches, <c>map_impl</c>'s body, <c>while_loop</c>'s
/// condition and body, the region of <c>wrap_with_set_grad_enabled</c>/<c>wrap_with_autocast</c>), named as the archive
/// names the submodule (<c>true_graph_0</c>).
/// </summary>
public sealed record GraphArg(string Name, Subgraph Graph) : Argument;

/// <summary>Either a literal (<see cref="Literal"/>) or a reference to a sym-int value (<see cref="Name"/>).</summary>
public sealed record SymInt(long? Literal, string? Name)
{
    public static SymInt Of(long value) => new(value, null);

    public static SymInt Ref(string name) => new(null, name);

    public override string ToString() => Name ?? Literal!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
