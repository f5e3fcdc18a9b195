using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// A node's arguments resolved by schema name for one kernel call. torch.export leaves out arguments equal to their
/// defaults, so every accessor takes the ATen schema's default. Scalars made here are disposed with the arguments.
/// </summary>
internal sealed class NodeArguments : IDisposable
{
    private readonly Func<string, object> lookup;
    private readonly Func<Subgraph, GraphExecutor>? subgraphs;
    private readonly List<Scalar> scalars = [];
    private readonly List<Tensor> inputTensors = [];

    /// <param name="node">the node whose arguments these are.</param>
    /// <param name="lookup">the value of a name (a tensor, sym value or list) in the running graph.</param>
    /// <param name="defaultDevice">where factories without a device argument put their tensors.</param>
    /// <param name="subgraphs">the prepared executors of the node's subgraphs; without, each call prepares its own.</param>
    public NodeArguments(GraphNode node, Func<string, object> lookup, Device defaultDevice, Func<Subgraph, GraphExecutor>? subgraphs = null)
    {
        Node = node;
        this.lookup = lookup;
        this.subgraphs = subgraphs;
        DefaultDevice = defaultDevice;
    }

    public GraphNode Node { get; }

    /// <summary>Where factory ops put tensors when the node has no device argument.</summary>
    public Device DefaultDevice { get; }

    /// <summary>Every tensor the kernel read, so the caller can tell a fresh result from an input handed back.</summary>
    public IReadOnlyList<Tensor> InputTensors => inputTensors;

    public Tensor Self => Tensor("self");

    /// <summary>Whether output <paramref name="index"/> is used at all (torch.export writes unused outputs as None).</summary>
    public bool Wants(int index) => index < Node.Outputs.Count && Node.Outputs[index] is not NoneArg;

    public bool Has(string name) => Find(name) is not null and not NoneArg;

    public Tensor Tensor(string name) => OptionalTensor(name) ?? throw Missing(name);

    public Tensor? OptionalTensor(string name) => Find(name) switch
    {
        null or NoneArg => null,
        TensorArg t => LookupTensor(t.Name),
        var other => throw WrongKind(name, other, "a tensor"),
    };

    public Tensor[] Tensors(string name) => Find(name) switch
    {
        TensorsArg t => t.Names.Select(LookupTensor).ToArray(),
        OptionalTensorsArg t when t.Names.All(n => n is not null) => t.Names.Select(n => LookupTensor(n!)).ToArray(),
        null => throw Missing(name),
        var other => throw WrongKind(name, other, "a list of tensors"),
    };

    public Tensor?[] OptionalTensors(string name) => Find(name) switch
    {
        OptionalTensorsArg t => t.Names.Select(n => n is null ? null : LookupTensor(n)).ToArray(),
        TensorsArg t => t.Names.Select(LookupTensor).ToArray<Tensor?>(),
        null => throw Missing(name),
        var other => throw WrongKind(name, other, "a list of optional tensors"),
    };

    public long Long(string name) => OptionalLong(name) ?? throw Missing(name);

    public long Long(string name, long fallback) => OptionalLong(name) ?? fallback;

    public long? OptionalLong(string name) => Find(name) switch
    {
        null or NoneArg => null,
        IntArg i => i.Value,
        SymIntArg s => Resolve(s.Value),
        BoolArg b => b.Value ? 1 : 0,
        SymBoolArg b => ResolveBool(b) ? 1 : 0,
        var other => throw WrongKind(name, other, "an int"),
    };

    public long[] Longs(string name) => OptionalLongs(name) ?? throw Missing(name);

    public long[] Longs(string name, params long[] fallback) => OptionalLongs(name) ?? fallback;

    /// <summary>An int list; a single int stands for itself (schemas like <c>int[2] stride=1</c> allow it).</summary>
    public long[]? OptionalLongs(string name) => Find(name) switch
    {
        null or NoneArg => null,
        IntsArg i => i.Values.ToArray(),
        SymIntsArg s => s.Values.Select(Resolve).ToArray(),
        IntArg i => [i.Value],
        SymIntArg s => [Resolve(s.Value)],
        var other => throw WrongKind(name, other, "a list of ints"),
    };

    public double Double(string name) => OptionalDouble(name) ?? throw Missing(name);

    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double? OptionalDouble(string name) => Find(name) switch
    {
        null or NoneArg => null,
        FloatArg f => f.Value,
        IntArg i => i.Value,
        SymIntArg s => Resolve(s.Value),
        SymFloatArg f => ResolveFloat(f),
        BoolArg b => b.Value ? 1 : 0,
        var other => throw WrongKind(name, other, "a number"),
    };

    public double[]? OptionalDoubles(string name) => Find(name) switch
    {
        null or NoneArg => null,
        FloatsArg f => f.Values.ToArray(),
        IntsArg i => i.Values.Select(v => (double)v).ToArray(),
        var other => throw WrongKind(name, other, "a list of numbers"),
    };

    public bool Bool(string name, bool fallback) => Find(name) switch
    {
        null or NoneArg => fallback,
        BoolArg b => b.Value,
        IntArg i => i.Value != 0,
        SymBoolArg b => ResolveBool(b),
        var other => throw WrongKind(name, other, "a bool"),
    };

    public string? OptionalString(string name) => Find(name) switch
    {
        null or NoneArg => null,
        StringArg s => s.Value,
        var other => throw WrongKind(name, other, "a string"),
    };

    /// <summary>A Scalar argument with the type the graph gave it (int, float or bool), so type promotion matches PyTorch.</summary>
    public Scalar Scalar(string name) => OptionalScalar(name) ?? throw Missing(name);

    public Scalar Scalar(string name, double fallback) => OptionalScalar(name) ?? Track(fallback.ToScalar());

    public Scalar? OptionalScalar(string name) => Find(name) switch
    {
        null or NoneArg => null,
        IntArg i => Track(i.Value.ToScalar()),
        FloatArg f => Track(f.Value.ToScalar()),
        BoolArg b => Track(b.Value.ToScalar()),
        SymIntArg s => Track(Resolve(s.Value).ToScalar()),
        SymFloatArg f => Track(ResolveFloat(f).ToScalar()),
        SymBoolArg b => Track(ResolveBool(b).ToScalar()),
        var other => throw WrongKind(name, other, "a scalar"),
    };

    /// <summary>A Scalar for a schema default that is an int.</summary>
    public Scalar Constant(long value) => Track(value.ToScalar());

    /// <summary>The dtype a scalar argument has on its own: bool, int64 or the default float.</summary>
    public ScalarType ScalarKind(string name) => Find(name) switch
    {
        BoolArg or SymBoolArg => ScalarType.Bool,
        IntArg or SymIntArg => ScalarType.Int64,
        FloatArg or SymFloatArg => get_default_dtype(),
        null => throw Missing(name),
        var other => throw WrongKind(name, other, "a scalar"),
    };

    /// <summary>The argument is a tensor or a scalar (the <c>.Tensor</c> overloads take both in exported graphs).</summary>
    public bool IsTensor(string name) => Find(name) is TensorArg;

    public ScalarType? OptionalDType(string name = "dtype") => Find(name) switch
    {
        null or NoneArg => null,
        ScalarTypeArg s when ExportScalarTypes.TryToDType(s.Code, out var dtype) => dtype.ToScalarType(),
        ScalarTypeArg s => throw Unsupported(name, $"dtype code {s.Code}"),
        var other => throw WrongKind(name, other, "a dtype"),
    };

    /// <summary>The device argument; without one, factory ops use the plan's device.</summary>
    public Device Device(string name = "device") => Find(name) switch
    {
        null or NoneArg => DefaultDevice,
        DeviceArg d => torch.device(d.Type, d.Index ?? -1),
        var other => throw WrongKind(name, other, "a device"),
    };

    /// <summary>
    /// The argument at <paramref name="position"/> as values: a tensor, each tensor of a list, or a number (sym-int as
    /// <see cref="long"/>, sym-float as <see cref="double"/>, sym-bool as <see cref="bool"/>). Higher-order operators take
    /// their operands positionally, unnamed.
    /// </summary>
    public IEnumerable<object> Values(int position) => Positional(position) switch
    {
        TensorArg t => [LookupTensor(t.Name)],
        TensorsArg t => t.Names.Select(LookupTensor),
        IntArg i => [i.Value],
        SymIntArg i => [Resolve(i.Value)],
        SymIntsArg i => i.Values.Select(v => (object)Resolve(v)),
        FloatArg f => [f.Value],
        SymFloatArg f => [ResolveFloat(f)],
        BoolArg b => [b.Value],
        SymBoolArg b => [ResolveBool(b)],
        var other => throw WrongKind($"#{position}", other, "a tensor, a list of tensors or a number"),
    };

    /// <summary>The one value of the argument at <paramref name="position"/> (see <see cref="Values"/>).</summary>
    public object Value(int position) => Values(position).ToList() is [var one] ? one
        : throw WrongKind($"#{position}", Positional(position), "a single value");

    /// <summary>The executor of the subgraph at <paramref name="position"/>, prepared once by the node's executor.</summary>
    public GraphExecutor Subgraph(int position) => Positional(position) is GraphArg g
        ? subgraphs?.Invoke(g.Graph) ?? new GraphExecutor(g.Graph, DefaultDevice)
        : throw WrongKind($"#{position}", Positional(position), "a subgraph");

    /// <summary>The argument at <paramref name="position"/>, as the node gives it.</summary>
    public Argument Positional(int position) => position < Node.Inputs.Count ? Node.Inputs[position].Value : throw Missing($"#{position}");

    /// <summary>How many arguments the node gives.</summary>
    public int Count => Node.Inputs.Count;

    public ModelBuildException Unsupported(string name, string value) => new(
        DiagnosticCodes.KernelArgumentUnsupported,
        $"{Describe(Node)}: argument '{name}' = {value} is not supported by ModelBuild's kernel.");

    public void Dispose()
    {
        foreach (var s in scalars)
        {
            s.Dispose();
        }
    }

    internal static string Describe(GraphNode node)
    {
        var produced = node.Outputs.Select(OutputName).FirstOrDefault(n => n is not null);
        var name = produced is null ? node.Target : $"node '{produced}' ({node.Target})";
        return string.IsNullOrEmpty(node.Origin) ? name : $"{name} from {node.Origin}";
    }

    private static string? OutputName(Argument output) => output switch
    {
        TensorArg t => t.Name,
        TensorsArg { Names.Count: > 0 } t => t.Names[0],
        SymIntArg { Value.Name: { } n } => n,
        SymFloatArg { Name: { } n } => n,
        SymBoolArg { Name: { } n } => n,
        _ => null,
    };

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

    private Tensor LookupTensor(string name)
    {
        var tensor = lookup(name) as Tensor ?? throw new ModelBuildException(
            DiagnosticCodes.PlanInconsistent, $"{Describe(Node)}: value '{name}' is not a tensor.");
        inputTensors.Add(tensor);
        return tensor;
    }

    private long Resolve(SymInt value)
    {
        if (value.Literal is { } literal)
        {
            return literal;
        }

        return lookup(value.Name!) switch
        {
            long l => l,
            int i => i,
            _ => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"{Describe(Node)}: value '{value.Name}' is not a symbolic int."),
        };
    }

    private double ResolveFloat(SymFloatArg value) => value.Literal ?? lookup(value.Name!) switch
    {
        double d => d,
        long l => l,
        _ => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"{Describe(Node)}: value '{value.Name}' is not a symbolic float."),
    };

    private bool ResolveBool(SymBoolArg value) => value.Literal ?? lookup(value.Name!) switch
    {
        bool b => b,
        _ => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"{Describe(Node)}: value '{value.Name}' is not a symbolic bool."),
    };

    private Scalar Track(Scalar scalar)
    {
        scalars.Add(scalar);
        return scalar;
    }

    private ModelBuildException Missing(string name) => new(
        DiagnosticCodes.KernelArgumentInvalid, $"{Describe(Node)}: required argument '{name}' is missing.");

    private ModelBuildException WrongKind(string name, Argument value, string expected) => new(
        DiagnosticCodes.KernelArgumentInvalid, $"{Describe(Node)}: argument '{name}' is {value.GetType().Name}, expected {expected}.");
}
