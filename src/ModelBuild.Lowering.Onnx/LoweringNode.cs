using System.Globalization;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// One node as a rule sees it: its arguments by schema name (torch.export leaves out arguments equal to their defaults,
/// so accessors take the ATen default), the dtypes and dims of the tensors it reads and writes, and the builder to emit
/// into. Anything a rule cannot express throws <see cref="NotLowerableException"/> with the reason.
/// </summary>
internal sealed class LoweringNode(GraphNode node, OnnxGraphBuilder builder)
{
    public GraphNode Node { get; } = node;

    public OnnxGraphBuilder B { get; } = builder;

    public ModelGraph Graph => B.Source;

    public string Self => Tensor("self");

    public TensorMeta SelfMeta => Meta("self");

    public bool Has(string name) => Find(name) is not null and not NoneArg;

    /// <summary>Whether the argument is a tensor (the <c>.Tensor</c> overloads also take scalars in exported graphs).</summary>
    public bool IsTensor(string name) => Find(name) is TensorArg;

    public bool IsString(string name) => Find(name) is StringArg;

    public string Tensor(string name) => OptionalTensor(name) ?? throw Missing(name);

    public string? OptionalTensor(string name) => Find(name) switch
    {
        null or NoneArg => null,
        TensorArg t => B.Value(t.Name),
        var other => throw WrongKind(name, other),
    };

    /// <summary>The dtype and dims of a tensor argument.</summary>
    public TensorMeta Meta(string name) => Find(name) switch
    {
        TensorArg t => MetaOf(t.Name),
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    public TensorMeta MetaOf(string value) => Graph.Values.TryGetValue(value, out var meta) ? meta
        : throw new NotLowerableException($"the graph records no dtype and dims for '{value}'");

    /// <summary>The IR value names of a list of tensors, and null for the None entries of an optional list.</summary>
    public IReadOnlyList<string?> TensorNames(string name) => Find(name) switch
    {
        TensorsArg t => t.Names,
        OptionalTensorsArg t => t.Names,
        null => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    public long Long(string name) => OptionalLong(name) ?? throw Missing(name);

    public long Long(string name, long fallback) => OptionalLong(name) ?? fallback;

    public long? OptionalLong(string name) => Find(name) switch
    {
        null or NoneArg => null,
        IntArg i => i.Value,
        SymIntArg { Value.Literal: { } l } => l,
        BoolArg b => b.Value ? 1 : 0,
        SymIntArg => throw new NotLowerableException($"argument '{name}' is a size computed at run time, which the rule needs as a constant"),
        var other => throw WrongKind(name, other),
    };

    public long[] Longs(string name) => OptionalLongs(name) ?? throw Missing(name);

    public long[] Longs(string name, params long[] fallback) => OptionalLongs(name) ?? fallback;

    /// <summary>An int list of constants; a single int stands for itself (<c>int[2] stride=1</c>).</summary>
    public long[]? OptionalLongs(string name) => Find(name) switch
    {
        null or NoneArg => null,
        IntsArg i => [.. i.Values],
        SymIntsArg s when s.Values.All(v => v.Literal is not null) => [.. s.Values.Select(v => v.Literal!.Value)],
        IntArg or SymIntArg => [Long(name)],
        SymIntsArg => throw new NotLowerableException($"argument '{name}' holds sizes computed at run time, which the rule needs as constants"),
        var other => throw WrongKind(name, other),
    };

    /// <summary>Whether an int-list argument holds sizes computed at run time (sym-ints).</summary>
    public bool IsSymbolic(string name) => Find(name) switch
    {
        SymIntArg s => s.Value.Name is not null,
        SymIntsArg s => s.Values.Any(v => v.Name is not null),
        _ => false,
    };

    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double? OptionalDouble(string name) => Find(name) switch
    {
        null or NoneArg => null,
        FloatArg f => f.Value,
        IntArg i => i.Value,
        BoolArg b => b.Value ? 1 : 0,
        SymIntArg { Value.Literal: { } l } => l,
        SymIntArg => throw new NotLowerableException($"argument '{name}' is computed at run time, which the rule needs as a constant"),
        var other => throw WrongKind(name, other),
    };

    public double[]? OptionalDoubles(string name) => Find(name) switch
    {
        null or NoneArg => null,
        FloatsArg f => [.. f.Values],
        IntsArg i => [.. i.Values.Select(v => (double)v)],
        var other => throw WrongKind(name, other),
    };

    public bool Bool(string name, bool fallback) => Find(name) switch
    {
        null or NoneArg => fallback,
        BoolArg b => b.Value,
        IntArg i => i.Value != 0,
        var other => throw WrongKind(name, other),
    };

    public string? OptionalString(string name) => Find(name) switch
    {
        null or NoneArg => null,
        StringArg s => s.Value,
        var other => throw WrongKind(name, other),
    };

    /// <summary>A dtype argument; null when absent.</summary>
    public TensorDType? OptionalDType(string name = "dtype") => Find(name) switch
    {
        null or NoneArg => null,
        ScalarTypeArg s when ExportScalarTypes.TryToDType(s.Code, out var dtype) => dtype,
        ScalarTypeArg s => throw new NotLowerableException($"argument '{name}' is dtype code {s.Code}, which ModelBuild does not carry"),
        var other => throw WrongKind(name, other),
    };

    /// <summary>The dtype a scalar argument has on its own (bool, int64, or the default float), as PyTorch types it.</summary>
    public TensorDType ScalarKind(string name) => Find(name) switch
    {
        BoolArg => TensorDType.BOOL,
        IntArg or SymIntArg => TensorDType.I64,
        FloatArg => TensorDType.F32,
        TensorArg t => MetaOf(t.Name).DType,
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    /// <summary>
    /// A tensor or scalar argument as an ONNX value of <paramref name="dtype"/>: a tensor cast when its dtype differs, a
    /// number a constant, a computed size its 0-d int64 value cast.
    /// </summary>
    public string Operand(string name, TensorDType dtype) => Find(name) switch
    {
        TensorArg t => Cast(B.Value(t.Name), MetaOf(t.Name).DType, dtype),
        IntArg i => B.Scalar(i.Value, dtype),
        FloatArg f => B.Scalar(f.Value, dtype),
        BoolArg b => B.Scalar(b.Value ? 1L : 0L, dtype),
        SymIntArg s => Cast(SymScalar(s.Value), TensorDType.I64, dtype),
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    /// <summary>A 0-d int64 value for an int or sym-int argument.</summary>
    public string SymScalar(string name) => Find(name) switch
    {
        IntArg i => B.Int(i.Value),
        SymIntArg s => SymScalar(s.Value),
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    public string SymScalar(SymInt value) => value.Literal is { } l ? B.Int(l) : B.Value(value.Name!);

    /// <summary>A 1-D int64 value for an int-list argument whose entries may be computed sizes.</summary>
    public string SymVector(string name) => Find(name) switch
    {
        IntsArg i => B.Ints([.. i.Values]),
        SymIntsArg s => SymVector(s.Values),
        IntArg or SymIntArg => B.Vector(SymScalar(name)),
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    /// <summary>Literal runs become constants, computed sizes their one-element forms, joined by one Concat.</summary>
    public string SymVector(IReadOnlyList<SymInt> values)
    {
        if (values.All(v => v.Literal is not null))
        {
            return B.Ints([.. values.Select(v => v.Literal!.Value)]);
        }
        var parts = new List<string>();
        var run = new List<long>();
        foreach (var v in values)
        {
            if (v.Literal is { } l)
            {
                run.Add(l);
                continue;
            }
            if (run.Count > 0)
            {
                parts.Add(B.Ints([.. run]));
                run.Clear();
            }
            parts.Add(B.Vector(B.Value(v.Name!)));
        }
        if (run.Count > 0)
        {
            parts.Add(B.Ints([.. run]));
        }
        return parts.Count == 1 ? parts[0] : B.Op("Concat", parts, Attr.Int("axis", 0));
    }

    /// <summary>The raw sym-int entries of an int-list argument.</summary>
    public IReadOnlyList<SymInt> SymInts(string name) => Find(name) switch
    {
        IntsArg i => [.. i.Values.Select(SymInt.Of)],
        SymIntsArg s => s.Values,
        IntArg i => [SymInt.Of(i.Value)],
        SymIntArg s => [s.Value],
        null or NoneArg => throw Missing(name),
        var other => throw WrongKind(name, other),
    };

    /// <summary><paramref name="value"/> as <paramref name="to"/>: itself when <paramref name="from"/> is that already.</summary>
    public string Cast(string value, TensorDType from, TensorDType to) =>
        from == to ? value : B.Op("Cast", [value], Attr.Int("to", OnnxTypes.Of(to)));

    /// <summary>The IR name of output <paramref name="index"/>, or null when it is not used (None).</summary>
    public string? OutputName(int index) => index < Node.Outputs.Count ? Node.Outputs[index] switch
    {
        TensorArg t => t.Name,
        SymIntArg { Value.Name: { } n } => n,
        _ => null,
    } : null;

    /// <summary>The dtype and dims of tensor output <paramref name="index"/>.</summary>
    public TensorMeta OutputMeta(int index = 0) => OutputName(index) is { } name ? MetaOf(name)
        : throw new NotLowerableException($"output {index} is not a tensor");

    public TensorDType OutputDType => OutputMeta().DType;

    /// <summary>Whether output <paramref name="index"/> is read by any node of the graph or is one of its outputs.</summary>
    public bool IsRead(int index) => OutputName(index) is { } name && OnnxLowering.Readers(Graph).Contains(name);

    /// <summary>Fails unless <paramref name="dtype"/> is one of <paramref name="allowed"/>; <paramref name="what"/> names the tensor.</summary>
    public void Require(TensorDType dtype, TensorDTypeSet allowed, string what)
    {
        if (!allowed.Contains(dtype))
        {
            throw new NotLowerableException($"{what} is {dtype}; the rule takes {allowed}");
        }
    }

    /// <summary>Fails unless every dim of <paramref name="meta"/> named in <paramref name="dims"/> is static; returns their sizes.</summary>
    public long[] StaticDims(TensorMeta meta, IEnumerable<long> dims, string what) => [.. dims.Select(d =>
    {
        var axis = d < 0 ? d + meta.Rank : d;
        return meta.Sizes[(int)axis].Value ?? throw new NotLowerableException($"{what} dim {axis} is symbolic ({meta.Sizes[(int)axis]}), and the rule needs its size");
    })];

    public NotLowerableException Unsupported(string name, object value) =>
        new($"argument '{name}' = {Convert.ToString(value, CultureInfo.InvariantCulture)} has no ONNX form");

    private Argument? Find(string name)
    {
        foreach (var input in Node.Inputs)
        {
            if (input.Name == name)
            {
                return input.Value;
            }
        }
        return null;
    }

    private static NotLowerableException Missing(string name) => new($"required argument '{name}' is missing");

    private static NotLowerableException WrongKind(string name, Argument value) => new($"argument '{name}' is {value.GetType().Name}, which the rule does not take");
}
