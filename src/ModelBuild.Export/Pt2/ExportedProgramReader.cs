using System.Globalization;
using System.Text.Json;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;

namespace ModelBuild.Export.Pt2;

/// <summary>
/// Reads the ExportedProgram JSON of torch.export's serializer (schema major 8): signature, graph, tensor and sym-int
/// values, and range constraints. Everything a later step needs is kept; anything it cannot represent is an MB error
/// that names the node or value, never a silent drop.
/// </summary>
internal sealed class ExportedProgramReader
{
    public const int SchemaMajor = 8;

    /// <summary>Bounds above this are PyTorch's stand-ins for "unbounded" (int_oo is written as sys.maxsize or more).</summary>
    private const long UnboundedThreshold = 1L << 62;

    private readonly string _file;
    private readonly Dictionary<string, string> _exprCache = new(StringComparer.Ordinal);

    private ExportedProgramReader(string file) => _file = file;

    public static ExportedProgram Read(byte[] json, string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"The exported program is not valid JSON: {e.Message}", file, e);
        }
        using (doc)
        {
            try
            {
                return new ExportedProgramReader(file).Read(doc.RootElement);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or OverflowException)
            {
                throw new ModelBuildException(DiagnosticCodes.ProgramMalformed,
                    $"The exported program does not follow the torch.export schema: {e.Message}", file, e);
            }
        }
    }

    private ExportedProgram Read(JsonElement root)
    {
        var schema = Required(root, "schema_version", "the program");
        var major = Required(schema, "major", "schema_version").GetInt32();
        var minor = schema.TryGetProperty("minor", out var m) ? m.GetInt32() : 0;
        if (major != SchemaMajor)
        {
            throw new ModelBuildException(DiagnosticCodes.SchemaVersionUnsupported,
                $"The exported program uses schema {major}.{minor}; ModelBuild reads schema major {SchemaMajor} (PyTorch 2.5 to 2.11). Export it again with a PyTorch of that range.", _file);
        }
        var torchVersion = root.TryGetProperty("torch_version", out var tv) && tv.ValueKind == JsonValueKind.String ? tv.GetString() : null;

        var module = Required(root, "graph_module", "the program");
        var graph = Required(module, "graph", "graph_module");
        var signature = Required(module, "signature", "graph_module");

        var (symbols, relations) = ReadRangeConstraints(root.TryGetProperty("range_constraints", out var rc) ? rc : default);
        var values = ReadTensorValues(Required(graph, "tensor_values", "graph"));
        var symInts = ReadSymIntValues(graph);
        CheckSymbolsHaveRanges(values, symInts, symbols);

        var inputs = new List<GraphValue>();
        var weights = new List<WeightSpec>();
        foreach (var spec in Required(signature, "input_specs", "signature").EnumerateArray())
        {
            ReadInputSpec(spec, values, inputs, weights);
        }
        var outputs = new List<GraphValue>();
        var mutations = new List<(string Input, GraphValue Value)>();
        foreach (var spec in Required(signature, "output_specs", "signature").EnumerateArray())
        {
            ReadOutputSpec(spec, values, inputs, outputs, mutations);
        }
        var nodes = Required(graph, "nodes", "graph").EnumerateArray().Select(ReadNode).ToList();

        return new ExportedProgram($"{major}.{minor}", torchVersion, inputs, [.. outputs, .. mutations.Select(m => m.Value)], nodes, weights, values, symInts, symbols, relations)
        {
            MutatedInputs = [.. mutations.Select(m => m.Input)],
        };
    }

    private (Dictionary<string, SymbolRange>, List<RelationRange>) ReadRangeConstraints(JsonElement constraints)
    {
        var symbols = new Dictionary<string, SymbolRange>(StringComparer.Ordinal);
        var relations = new List<RelationRange>();
        if (constraints.ValueKind != JsonValueKind.Object)
        {
            return (symbols, relations);
        }
        foreach (var c in constraints.EnumerateObject())
        {
            var expr = ParseExpr(c.Name, $"Range constraint '{c.Name}'");
            var min = Bound(c.Value.TryGetProperty("min_val", out var lo) ? lo : default, c.Name) ?? 0;
            var max = Bound(c.Value.TryGetProperty("max_val", out var hi) ? hi : default, c.Name);
            if (expr.Kind == SymExprKind.Symbol)
            {
                symbols[expr.Name!] = new SymbolRange(min, max);
            }
            else
            {
                relations.Add(new RelationRange(expr.ToString(), min, max));
            }
        }
        return (symbols, relations);
    }

    /// <summary>A range bound; null when PyTorch wrote "unbounded" (null, a string such as "int_oo", or a huge number).</summary>
    private long? Bound(JsonElement value, string key)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String:
                return null;
            case JsonValueKind.Number when value.TryGetInt64(out var v):
                return Math.Abs(v) >= UnboundedThreshold ? null : v;
            case JsonValueKind.Number when value.TryGetDouble(out var d) && Math.Abs(d) >= UnboundedThreshold:
                return null;
            default:
                throw new ModelBuildException(DiagnosticCodes.ProgramMalformed,
                    $"The range of '{key}' has a bound that is not an integer: {value.GetRawText()}.", _file);
        }
    }

    private Dictionary<string, TensorMeta> ReadTensorValues(JsonElement tensorValues)
    {
        var values = new Dictionary<string, TensorMeta>(StringComparer.Ordinal);
        foreach (var v in tensorValues.EnumerateObject())
        {
            values[v.Name] = ReadTensorMeta(v.Value, $"tensor '{v.Name}'");
        }
        return values;
    }

    /// <summary>A tensor_meta of a weights config: dtype, constant sizes, strides and storage offset.</summary>
    public static StoredTensor ReadStoredTensor(JsonElement meta, string what, string file)
    {
        var reader = new ExportedProgramReader(file);
        try
        {
            var m = reader.ReadTensorMeta(meta, what);
            var strides = reader.Required(meta, "strides", what).EnumerateArray().Select(s => reader.ReadDim(s, what)).ToList();
            var offset = meta.TryGetProperty("storage_offset", out var o) ? reader.ReadDim(o, what) : Dim.Of(0);
            if (m.Sizes.Concat(strides).Append(offset).Any(d => !d.IsStatic))
            {
                throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid, $"{Capitalized(what)} has a symbolic size or stride.", file);
            }
            var stored = new StoredTensor(m.DType, m.Sizes.Select(d => d.Value!.Value).ToList(), strides.Select(d => d.Value!.Value).ToList(), offset.Value!.Value);
            stored.Validate(Capitalized(what), file);
            return stored;
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or OverflowException)
        {
            throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(what)} does not follow the torch.export schema: {e.Message}", file, e);
        }
    }

    private TensorMeta ReadTensorMeta(JsonElement meta, string what)
    {
        var code = Required(meta, "dtype", what).GetInt32();
        if (!ExportScalarTypes.TryToDType(code, out var dtype))
        {
            throw new ModelBuildException(DiagnosticCodes.DTypeUnsupported,
                $"{what} has element type code {code} ({ScalarTypeName(code)}); ModelBuild handles float64/32/16, bfloat16, int64/32/16/8, uint8 and bool.", _file);
        }
        var sizesValue = Required(meta, "sizes", what);
        if (sizesValue.ValueKind == JsonValueKind.Array && sizesValue.GetArrayLength() > TensorShapes.MaxRank)
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                $"{Capitalized(what)} has {sizesValue.GetArrayLength()} dims, more than the {TensorShapes.MaxRank} ModelBuild reads.", _file);
        }
        var sizes = sizesValue.EnumerateArray().Select(s => ReadDim(s, what)).ToList();
        StoredTensor.CheckSizes(sizes.Where(d => d.IsStatic).Select(d => d.Value!.Value), what, _file);
        return new TensorMeta(dtype, sizes);
    }

    private Dim ReadDim(JsonElement size, string what)
    {
        if (size.TryGetProperty("as_int", out var i))
        {
            return Dim.Of(i.GetInt64());
        }
        if (size.TryGetProperty("as_expr", out var e))
        {
            var text = RequiredText(e, "expr_str", what);
            var expr = Canonical(text, what);
            return long.TryParse(expr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var constant)
                ? Dim.Of(constant)
                : Dim.Symbolic(expr);
        }
        throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
            $"{what} has a size of a kind ModelBuild does not read: {Excerpt(size)}.", _file);
    }

    private Dictionary<string, string> ReadSymIntValues(JsonElement graph)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!graph.TryGetProperty("sym_int_values", out var symInts) || symInts.ValueKind != JsonValueKind.Object)
        {
            return result;
        }
        foreach (var v in symInts.EnumerateObject())
        {
            result[v.Name] = ReadDim(v.Value, $"sym-int '{v.Name}'").ToString();
        }
        return result;
    }

    private void CheckSymbolsHaveRanges(Dictionary<string, TensorMeta> values, Dictionary<string, string> symInts,
        Dictionary<string, SymbolRange> symbols)
    {
        var used = values.SelectMany(v => v.Value.Sizes.Where(d => !d.IsStatic).Select(d => (Name: v.Key, d.Expr!)))
            .Concat(symInts.Select(s => (Name: s.Key, s.Value)));
        foreach (var (name, text) in used)
        {
            foreach (var symbol in SymExpr.Parse(text).Symbols)
            {
                if (!symbols.ContainsKey(symbol))
                {
                    throw new ModelBuildException(DiagnosticCodes.SymbolWithoutRange,
                        $"Value '{name}' has size '{text}', but symbol '{symbol}' has no entry in range_constraints; the archive lost its ranges. Export it again, or give the range with --shape.", _file);
                }
            }
        }
    }

    private void ReadInputSpec(JsonElement spec, Dictionary<string, TensorMeta> values, List<GraphValue> inputs, List<WeightSpec> weights)
    {
        var (kind, body) = Single(spec, "an input spec");
        switch (kind)
        {
            case "user_input":
            {
                var arg = Required(body, "arg", "user_input");
                if (!arg.TryGetProperty("as_tensor", out var tensor))
                {
                    throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                        $"A user input is {Excerpt(arg)}; ModelBuild compiles models whose inputs are tensors.", _file);
                }
                var name = RequiredText(tensor, "name", "user_input");
                inputs.Add(new GraphValue(name, Meta(values, name)));
                break;
            }
            case "parameter":
                weights.Add(Weight(body, "parameter_name", WeightKind.Parameter, values));
                break;
            case "buffer":
                weights.Add(Weight(body, "buffer_name", WeightKind.Buffer, values));
                break;
            case "tensor_constant":
                weights.Add(Weight(body, "tensor_constant_name", WeightKind.Constant, values));
                break;
            default:
                throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                    $"The program has an input of kind '{kind}' ({Excerpt(body)}); ModelBuild reads user inputs, parameters, buffers and tensor constants.", _file);
        }
    }

    private WeightSpec Weight(JsonElement body, string nameProperty, WeightKind kind, Dictionary<string, TensorMeta> values)
    {
        var value = RequiredText(Required(body, "arg", nameProperty), "name", nameProperty);
        var state = RequiredText(body, nameProperty, nameProperty);
        var meta = Meta(values, value);
        if (meta.Sizes.Any(d => !d.IsStatic))
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid, $"Weight '{state}' has a symbolic size ({string.Join(", ", meta.Sizes)}).", _file);
        }
        return new WeightSpec(value, state, kind, meta);
    }

    private void ReadOutputSpec(JsonElement spec, Dictionary<string, TensorMeta> values, List<GraphValue> inputs, List<GraphValue> outputs,
        List<(string Input, GraphValue Value)> mutations)
    {
        var (kind, body) = Single(spec, "an output spec");
        switch (kind)
        {
            case "user_output":
            {
                var arg = Required(body, "arg", "user_output");
                if (!arg.TryGetProperty("as_tensor", out var tensor))
                {
                    throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                        $"A user output is {Excerpt(arg)}; ModelBuild compiles models whose outputs are tensors.", _file);
                }
                var name = RequiredText(tensor, "name", "user_output");
                outputs.Add(new GraphValue(name, Meta(values, name)));
                break;
            }
            // Buffers updated in place (running statistics in training mode) do not change what inference returns.
            case "buffer_mutation":
                break;
            case "user_input_mutation":
            {
                var value = Required(Required(body, "arg", kind), "name", kind).GetString()!;
                var input = Required(body, "user_input_name", kind).GetString()!;
                if (!inputs.Any(i => i.Name == input))
                {
                    throw new ModelBuildException(DiagnosticCodes.ProgramMalformed,
                        $"The signature says value '{value}' is written to user input '{input}', which is not a user input of the program.", _file);
                }
                mutations.Add((input, new GraphValue(value, Meta(values, value))));
                break;
            }
            default:
                throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                    $"The program has an output of kind '{kind}'; ModelBuild reads user outputs and user input mutations (and ignores buffer mutations).", _file);
        }
    }

    private GraphNode ReadNode(JsonElement node)
    {
        var target = RequiredText(node, "target", "a node");
        var name = node.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : target;
        var where = $"node '{name}' ({target})";
        var inputs = Required(node, "inputs", where).EnumerateArray().Select(i =>
        {
            // Empty for the positional arguments of higher-order ops (cond's predicate, branches and operands).
            var argName = RequiredString(i, "name", where);
            var kwargOnly = i.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.Number && k.GetInt32() == 2;
            return new NamedArgument(argName, ReadArgument(Required(i, "arg", where), $"argument '{argName}' of {where}"), kwargOnly);
        }).ToList();
        var outputs = Required(node, "outputs", where).EnumerateArray().Select(o => ReadArgument(o, $"an output of {where}")).ToList();
        var origin = node.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object &&
            md.TryGetProperty("stack_trace", out var st) && st.ValueKind == JsonValueKind.String
            ? Origin(st.GetString()!)
            : "";
        return new GraphNode(target, inputs, outputs) { Origin = origin };
    }

    private Argument ReadArgument(JsonElement arg, string where)
    {
        var (kind, v) = Single(arg, where);
        return kind switch
        {
            "as_none" => new NoneArg(),
            "as_tensor" => new TensorArg(TensorName(v, where)),
            "as_tensors" => new TensorsArg(v.EnumerateArray().Select(t => TensorName(t, where)).ToList()),
            "as_optional_tensors" => new OptionalTensorsArg(v.EnumerateArray().Select(t => OptionalTensor(t, where)).ToList()),
            "as_optional_tensor" => OptionalTensor(v, where) is { } name ? new TensorArg(name) : new NoneArg(),
            "as_int" => new IntArg(v.GetInt64()),
            "as_ints" => new IntsArg(v.EnumerateArray().Select(x => x.GetInt64()).ToList()),
            "as_float" => new FloatArg(Float(v, where)),
            "as_floats" => new FloatsArg(v.EnumerateArray().Select(x => Float(x, where)).ToList()),
            "as_bool" => new BoolArg(v.GetBoolean()),
            "as_bools" => new BoolsArg(v.EnumerateArray().Select(x => x.GetBoolean()).ToList()),
            "as_string" => new StringArg(v.ValueKind == JsonValueKind.String ? v.GetString()! : throw NotA("a string", v, where)),
            "as_sym_int" => new SymIntArg(SymIntOf(v, where)),
            "as_sym_ints" => new SymIntsArg(v.EnumerateArray().Select(x => SymIntOf(x, where)).ToList()),
            "as_sym_bool" => SymBoolOf(v, where),
            "as_sym_float" => SymFloatOf(v, where),
            "as_graph" => new GraphArg(Required(v, "name", where).GetString()!, ReadSubgraph(Required(v, "graph", where), where)),
            "as_scalar_type" => new ScalarTypeArg(v.GetInt32()),
            "as_layout" => new LayoutArg(v.GetInt32()),
            "as_memory_format" => new MemoryFormatArg(v.GetInt32()),
            "as_device" => new DeviceArg(RequiredText(v, "type", where),
                v.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number ? index.GetInt32() : null),
            _ => throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                $"{Capitalized(where)} is of kind '{kind}', which ModelBuild does not read.", _file),
        };
    }

    private string TensorName(JsonElement t, string where) => RequiredText(t, "name", where);

    private string? OptionalTensor(JsonElement t, string where)
    {
        var (kind, v) = Single(t, where);
        return kind switch
        {
            "as_tensor" => TensorName(v, where),
            "as_none" => null,
            _ => throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                $"{Capitalized(where)} holds an optional tensor of kind '{kind}'.", _file),
        };
    }

    private SymInt SymIntOf(JsonElement v, string where)
    {
        var (kind, body) = Single(v, where);
        return kind switch
        {
            "as_int" => SymInt.Of(body.GetInt64()),
            "as_name" => SymInt.Ref(body.ValueKind == JsonValueKind.String && body.GetString() is { Length: > 0 } symName ? symName : throw NotA("a sym-int name", body, where)),
            _ => throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                $"{Capitalized(where)} holds a sym-int of kind '{kind}'.", _file),
        };
    }

    private SymBoolArg SymBoolOf(JsonElement v, string where)
    {
        var (kind, body) = Single(v, where);
        return kind switch
        {
            "as_bool" => new SymBoolArg(body.GetBoolean(), null),
            "as_name" => new SymBoolArg(null, body.GetString()!),
            _ => throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                $"{Capitalized(where)} holds a sym-bool of kind '{kind}'.", _file),
        };
    }

    private SymFloatArg SymFloatOf(JsonElement v, string where)
    {
        var (kind, body) = Single(v, where);
        return kind switch
        {
            "as_float" => new SymFloatArg(Float(body, where), null),
            "as_name" => new SymFloatArg(null, body.GetString()!),
            _ => throw new ModelBuildException(DiagnosticCodes.ArgumentKindUnsupported,
                $"{Capitalized(where)} holds a sym-float of kind '{kind}'.", _file),
        };
    }

    /// <summary>A higher-order operator's subgraph: its inputs, outputs, nodes and tensor values, read like the program's graph.</summary>
    private Subgraph ReadSubgraph(JsonElement graph, string where) => new(
        [.. Required(graph, "inputs", where).EnumerateArray().Select(i => ReadArgument(i, $"an input of the subgraph of {where}"))],
        [.. Required(graph, "outputs", where).EnumerateArray().Select(o => ReadArgument(o, $"an output of the subgraph of {where}"))],
        [.. Required(graph, "nodes", where).EnumerateArray().Select(ReadNode)])
    {
        Values = graph.TryGetProperty("tensor_values", out var values) && values.ValueKind == JsonValueKind.Object ? ReadTensorValues(values) : [],
    };

    /// <summary>Floats; the serializer writes non-finite values as strings.</summary>
    private double Float(JsonElement v, string where) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.String => v.GetString() switch
        {
            "Infinity" or "inf" => double.PositiveInfinity,
            "-Infinity" or "-inf" => double.NegativeInfinity,
            "NaN" or "nan" => double.NaN,
            var s => throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} holds the float '{s}'.", _file),
        },
        _ => throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} holds {Excerpt(v)} where a float belongs.", _file),
    };

    private TensorMeta Meta(Dictionary<string, TensorMeta> values, string name) =>
        values.TryGetValue(name, out var meta)
            ? meta
            : throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"The signature names value '{name}', which has no entry in tensor_values.", _file);

    /// <summary>Parses a size expression; its errors name the file and the value concerned.</summary>
    private SymExpr ParseExpr(string text, string what)
    {
        try
        {
            return SymExpr.Parse(text);
        }
        catch (ModelBuildException e) when (e.File is null)
        {
            throw new ModelBuildException(e.Code, $"{Capitalized(what)}: {e.Detail}", _file, e);
        }
    }

    private string Canonical(string text, string what)
    {
        if (!_exprCache.TryGetValue(text, out var canonical))
        {
            canonical = ParseExpr(text, what).ToString();
            _exprCache[text] = canonical;
        }
        return canonical;
    }

    /// <summary>The last frame of a PyTorch stack trace: "file, line N, in f: code".</summary>
    private static string Origin(string stackTrace)
    {
        var lines = stackTrace.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var frame = Array.FindLastIndex(lines, l => l.StartsWith("File ", StringComparison.Ordinal));
        if (frame < 0)
        {
            return lines.Length > 0 ? lines[^1] : "";
        }
        var location = lines[frame]["File ".Length..].Replace("\"", "", StringComparison.Ordinal);
        return frame + 1 < lines.Length ? $"{location}: {lines[frame + 1]}" : location;
    }

    private JsonElement Required(JsonElement e, string property, string where)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }
        throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} has no '{property}'.", _file);
    }

    /// <summary>A property that must be a string, possibly empty.</summary>
    private string RequiredString(JsonElement e, string property, string where)
    {
        var value = Required(e, property, where);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} has '{property}' {Excerpt(value)}, not a string.", _file);
    }

    /// <summary>A property that must be a non-empty string (names, targets, expressions).</summary>
    private string RequiredText(JsonElement e, string property, string where)
    {
        var value = Required(e, property, where);
        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} has '{property}' {Excerpt(value)}, not a non-empty string.", _file);
    }

    private ModelBuildException NotA(string what, JsonElement value, string where) =>
        new(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} holds {Excerpt(value)} where {what} belongs.", _file);

    /// <summary>The one property of a schema union ({"as_tensor": {...}}).</summary>
    private (string Kind, JsonElement Value) Single(JsonElement union, string where)
    {
        if (union.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in union.EnumerateObject())
            {
                return (p.Name, p.Value);
            }
        }
        throw new ModelBuildException(DiagnosticCodes.ProgramMalformed, $"{Capitalized(where)} is {Excerpt(union)}, not a schema union.", _file);
    }

    private static string Excerpt(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length <= 120 ? text : text[..120] + "...";
    }

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string ScalarTypeName(int code) => code switch
    {
        0 => "unknown",
        9 => "complex32",
        10 => "complex64",
        11 => "complex128",
        14 => "float8",
        _ => "other",
    };
}
