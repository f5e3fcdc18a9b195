using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Onnx.Proto;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// The ONNX graph of one block as rules emit it: nodes, initializers (the weights the block reads, and constants), and
/// the ONNX value that stands for each IR value. A rule's result may be any ONNX value (an alias: <c>clone</c> is the
/// value it copies), so IR names map to ONNX names; the graph's outputs are renamed to their IR names at the end.
/// A probing builder (<see cref="Probe"/>) runs the same rules to learn whether a node lowers, keeping nothing.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly ModelGraph _source;
    private readonly Dictionary<string, Weight> _weights;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _symVectors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    // Values that nodes make, and those of them whose dtype and shape the graph declares (value_info).
    private readonly HashSet<string> _made = new(StringComparer.Ordinal);
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    private readonly GraphProto _graph = new() { Name = "block" };
    private int _counter;
    private int _nodeCounter;

    private OnnxGraphBuilder(ModelGraph source, bool probe)
    {
        _source = source;
        Probing = probe;
        _weights = source.Weights.ToDictionary(w => w.ValueName, StringComparer.Ordinal);
    }

    /// <summary>Whether this builder only checks that rules apply: it keeps no nodes and reads no weights.</summary>
    public bool Probing { get; }

    public ModelGraph Source => _source;

    public static OnnxGraphBuilder Probe(ModelGraph source) => new(source, probe: true);

    public static OnnxGraphBuilder For(ModelGraph source) => new(source, probe: false);

    /// <summary>Declares an input of the block: a tensor with its dtype and dims (named dims for symbols), or a sym-int as a 0-d int64.</summary>
    public void Input(string name)
    {
        var type = _source.Values.TryGetValue(name, out var meta) ? TensorType(meta.DType, meta.Sizes) : TensorType(TensorDType.I64, []);
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = type });
        Claim(name);
        _values[name] = name;
    }

    /// <summary>Makes the IR value <paramref name="name"/> a graph output under its own name (an Identity where a rule aliased it).</summary>
    public void Output(string name)
    {
        var value = Value(name);
        if (value != name)
        {
            _graph.Node.Add(NewNode("Identity", [value], [name], []));
        }
        var type = _source.Values.TryGetValue(name, out var meta) ? TensorType(meta.DType, meta.Sizes) : TensorType(TensorDType.I64, []);
        _graph.Output.Add(new ValueInfoProto { Name = name, Type = type });
    }

    /// <summary>The ONNX value of the IR value <paramref name="name"/>; a weight becomes an initializer on first use.</summary>
    public string Value(string name)
    {
        if (_values.TryGetValue(name, out var value))
        {
            return value;
        }
        if (_weights.TryGetValue(name, out var weight))
        {
            Claim(name);
            if (!Probing)
            {
                _graph.Initializer.Add(Tensor(name, weight.Meta.DType, [.. weight.Meta.Sizes.Select(d => d.Value ?? 0)], weight.Read()));
            }
            return _values[name] = name;
        }
        if (Probing)
        {
            return name;
        }
        throw new InvalidOperationException($"the block reads '{name}', which neither its inputs nor an earlier node provide.");
    }

    /// <summary>
    /// Records that the IR value <paramref name="name"/> is the ONNX value <paramref name="value"/>, and declares the
    /// value's dtype and shape (the IR's, symbols as named dims) when a node of this graph makes it. ONNX Runtime
    /// keeps these declarations through its offline optimization; without them it infers every shape again whenever an
    /// engine loads (measured on timm_edgenext: sessions 1.8x slower to create, docs/benchmarks.md).
    /// </summary>
    public void Bind(string name, string value)
    {
        _values[name] = value;
        if (!Probing && _made.Contains(value) && _source.Values.TryGetValue(name, out var meta) && _declared.Add(value))
        {
            _graph.ValueInfo.Add(new ValueInfoProto { Name = value, Type = TensorType(meta.DType, meta.Sizes) });
        }
    }

    /// <summary>A node with <paramref name="outputs"/> new outputs; returns their names.</summary>
    public string[] Node(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        // Inputs may be made by nodes of their own: they go first, in order (also when probing, so their rules run).
        var given = inputs.ToList();
        var names = new string[outputs];
        for (var i = 0; i < outputs; i++)
        {
            names[i] = Fresh(op);
            _made.Add(names[i]);
        }
        if (!Probing)
        {
            _graph.Node.Add(NewNode(op, given, names, attributes));
        }
        return names;
    }

    /// <summary>A node with one new output; returns its name. An empty input name stands for an omitted optional input.</summary>
    public string Op(string op, IEnumerable<string> inputs, params AttributeProto[] attributes) => Node(op, inputs, 1, attributes)[0];

    /// <summary>A 1-D int64 constant.</summary>
    public string Ints(params long[] values) => Constant(TensorDType.I64, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>A 0-d int64 constant.</summary>
    public string Int(long value) => Constant(TensorDType.I64, [], BitConverter.GetBytes(value));

    /// <summary>A 0-d constant of <paramref name="dtype"/>.</summary>
    public string Scalar(double value, TensorDType dtype) => Constant(dtype, [], OnnxTypes.Element(value, dtype));

    /// <summary>A 0-d constant of <paramref name="dtype"/> from an integer, exact for integer dtypes.</summary>
    public string Scalar(long value, TensorDType dtype) => Constant(dtype, [], OnnxTypes.Element(value, dtype));

    /// <summary>A constant tensor (an initializer); equal constants are one initializer.</summary>
    public string Constant(TensorDType dtype, long[] dims, byte[] bytes)
    {
        var key = $"{dtype}:{string.Join(',', dims)}:{Convert.ToBase64String(bytes)}";
        if (_constants.TryGetValue(key, out var existing))
        {
            return existing;
        }
        var name = Fresh("const");
        if (!Probing)
        {
            _graph.Initializer.Add(Tensor(name, dtype, dims, bytes));
        }
        return _constants[key] = name;
    }

    /// <summary>The 1-D, one-element form of a 0-d int64 value (a sym-int), made once per value.</summary>
    public string Vector(string scalar)
    {
        if (!_symVectors.TryGetValue(scalar, out var vector))
        {
            vector = _symVectors[scalar] = Op("Unsqueeze", [scalar, Ints(0)]);
        }
        return vector;
    }

    /// <summary>The model: opset <paramref name="opset"/> of the default domain, this graph.</summary>
    public ModelProto Model(int opset)
    {
        var model = new ModelProto
        {
            IrVersion = OnnxLowering.IrVersion,
            ProducerName = "ModelBuild",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private string Fresh(string hint)
    {
        string name;
        do
        {
            name = $"_{hint}_{_counter++}";
        }
        while (!_names.Add(name) || _source.Values.ContainsKey(name) || _source.SymIntValues.ContainsKey(name));
        return name;
    }

    private void Claim(string name) => _names.Add(name);

    private NodeProto NewNode(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_nodeCounter++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static TensorProto Tensor(string name, TensorDType dtype, long[] dims, ReadOnlyMemory<byte> bytes)
    {
        var tensor = new TensorProto { Name = name, DataType = OnnxTypes.Of(dtype), RawData = ByteString.CopyFrom(bytes.Span) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static TypeProto TensorType(TensorDType dtype, IReadOnlyList<Dim> dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d.Value is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d.Expr });
        }
        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTypes.Of(dtype), Shape = shape } };
    }
}
