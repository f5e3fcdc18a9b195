using System.Globalization;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;

namespace ModelBuild.Engine.Container;

/// <summary>
/// Checks a deserialized manifest and plan before anything runs them: JSON can say <c>null</c> or <c>""</c> wherever it
/// likes, and the serializer hands that on. Every field the runtime uses must be present (MB4012, naming the field by
/// its path, e.g. <c>plan.blocks[0].nodes[3].outputs[0].name</c>), every expression must parse, and manifest and plan must agree
/// with each other and with themselves (MB4013): inputs and outputs, device, symbol ranges, one memory-plan entry per
/// node, every value a block reads is an input or an earlier block's output, and every value a node reads is an input
/// or weight of its block or the output of an earlier node that was not yet freed.
/// </summary>
internal sealed class EngineContentValidator
{
    private readonly string _file;

    private EngineContentValidator(string file) => _file = file;

    /// <summary>Checks the manifest alone: what the runtime reads before the plan (ranges, versions, hashes).</summary>
    public static void CheckManifest(EngineManifest manifest, string file) => new EngineContentValidator(file).Manifest(manifest);

    /// <summary>Checks the plan, and that it agrees with the (checked) manifest.</summary>
    public static void CheckPlan(ExecutionPlan plan, EngineManifest manifest, string file)
    {
        var v = new EngineContentValidator(file);
        v.Plan(plan);
        v.Agreement(manifest, plan);
    }

    private void Manifest(EngineManifest m)
    {
        Text(m.Name, "manifest.name");
        Present(m.Source, "manifest.source");
        Text(m.Source.Format, "manifest.source.format");
        Present(m.Source.File, "manifest.source.file");
        Present(m.Source.Sha256, "manifest.source.sha256");
        Present(m.Toolchain, "manifest.toolchain");
        Present(m.Toolchain.ModelBuild, "manifest.toolchain.modelBuild");
        Present(m.Toolchain.TorchSharp, "manifest.toolchain.torchSharp");
        Present(m.Toolchain.LibTorch, "manifest.toolchain.libTorch");
        Present(m.Target, "manifest.target");
        Device(m.Target.Device, "manifest.target.device");
        if (Text(m.Target.Precision, "manifest.target.precision") is not ("fp32" or "fp16" or "bf16"))
        {
            throw Inconsistent($"manifest.target.precision is '{m.Target.Precision}', not fp32, fp16 or bf16");
        }
        DType(m.Target.FloatBoundaryDType, "manifest.target.floatBoundaryDType");
        Present(m.RuntimeVersions, "manifest.runtimeVersions");
        Present(m.PayloadSha256, "manifest.payloadSha256");

        Present(m.Symbols, "manifest.symbols");
        foreach (var (name, range) in m.Symbols)
        {
            var at = $"manifest.symbols.{name}";
            Present(range, at);
            if (range.Min < 0 || range.Min > range.Opt || range.Opt > range.Max)
            {
                throw Inconsistent($"{at} is {range.Min}..{range.Opt}..{range.Max}, not ordered 0 <= min <= opt <= max");
            }
        }
        var inputSymbols = Tensors(m.Inputs, "manifest.inputs", unknownDims: false);
        Tensors(m.Outputs, "manifest.outputs", unknownDims: true);
        var unranged = inputSymbols.Where(s => !m.Symbols.ContainsKey(s)).Order(StringComparer.Ordinal).ToList();
        if (unranged.Count > 0)
        {
            throw Inconsistent($"manifest.inputs use symbol{(unranged.Count == 1 ? "" : "s")} {string.Join(", ", unranged)}, which manifest.symbols gives no range");
        }
        Present(m.Relations, "manifest.relations");
        for (var i = 0; i < m.Relations.Count; i++)
        {
            var at = $"manifest.relations[{i}]";
            var relation = Present(m.Relations[i], at);
            Expression(Text(relation.Expr, $"{at}.expr"), $"{at}.expr");
            if (relation.Min > relation.Max)
            {
                throw Inconsistent($"{at} ranges {relation.Expr} over {relation.Min}..{relation.Max}, an empty range");
            }
        }
        Names(m.MutatedInputs, "manifest.mutatedInputs");
        Present(m.Validation, "manifest.validation");
        for (var i = 0; i < m.Validation.Count; i++)
        {
            var at = $"manifest.validation[{i}]";
            var c = Present(m.Validation[i], at);
            Present(c.Name, $"{at}.name");
            Present(c.Symbols, $"{at}.symbols");
            Present(c.ComparedWith, $"{at}.comparedWith");
            Present(c.InputShapes, $"{at}.inputShapes");
            for (var j = 0; j < c.InputShapes.Count; j++)
            {
                Present(c.InputShapes[j], $"{at}.inputShapes[{j}]");
            }
        }
    }

    /// <returns>The symbols the tensors' dims use.</returns>
    private HashSet<string> Tensors(IReadOnlyList<ManifestTensor> tensors, string at, bool unknownDims)
    {
        Present(tensors, at);
        var symbols = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = Present(tensors[i], $"{at}[{i}]");
            if (!names.Add(Text(t.Name, $"{at}[{i}].name")))
            {
                throw Inconsistent($"{at} name '{t.Name}' twice");
            }
            DType(t.DType, $"{at}[{i}].dtype");
            Present(t.Dims, $"{at}[{i}].dims");
            if (t.Dims.Count > TensorShapes.MaxRank)
            {
                throw Inconsistent($"{at}[{i}].dims has {t.Dims.Count} dims, more than {TensorShapes.MaxRank}");
            }
            for (var d = 0; d < t.Dims.Count; d++)
            {
                var dim = Text(t.Dims[d], $"{at}[{i}].dims[{d}]");
                // TorchScript engines cannot know their outputs' sizes without a graph: "?".
                if ((unknownDims && dim == "?") || long.TryParse(dim, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    continue;
                }
                symbols.UnionWith(Expression(dim, $"{at}[{i}].dims[{d}]").Symbols);
            }
        }
        return symbols;
    }

    private void Plan(ExecutionPlan plan)
    {
        Names(plan.Inputs, "plan.inputs");
        Names(plan.Outputs, "plan.outputs");
        Device(plan.Device, "plan.device");
        Present(plan.Blocks, "plan.blocks");
        var available = plan.Inputs.ToHashSet(StringComparer.Ordinal);
        // Every value is produced once; a block repeated (a thousand times, by a damaged or hostile plan) is refused.
        var produced = new HashSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < plan.Blocks.Count; k++)
        {
            var at = $"plan.blocks[{k}]";
            var block = Present(plan.Blocks[k], at);
            Text(block.Backend, $"{at}.backend");
            foreach (var name in Names(block.Inputs, $"{at}.inputs"))
            {
                if (!available.Contains(name))
                {
                    throw Inconsistent($"{at} reads value '{name}', which is no input of the model and no earlier block produces");
                }
            }
            foreach (var name in Names(block.Outputs, $"{at}.outputs"))
            {
                if (produced.Contains(name))
                {
                    throw Inconsistent($"{at} produces value '{name}', which an earlier block produces");
                }
            }
            Names(block.Weights, $"{at}.weights");
            if (block.Nodes is null)
            {
                // A block a backend compiled: its bytes are the payload tensor, which the caller checks is present.
                Text(block.Payload, $"{at}.payload");
            }
            else
            {
                Nodes(block, at);
            }
            available.UnionWith(block.Outputs);
            produced.UnionWith(block.Outputs);
        }
        var missing = plan.Outputs.Where(o => !available.Contains(o)).ToList();
        if (missing.Count > 0)
        {
            throw Inconsistent($"plan.outputs name {string.Join(", ", missing.Select(o => $"'{o}'"))}, which no block produces");
        }
    }

    /// <summary>A block of graph-IR nodes: every value a node reads is a block input, a weight, or an earlier node's output not yet freed.</summary>
    private void Nodes(PlanBlock block, string blockAt)
    {
        Present(block.FreeAfter, $"{blockAt}.freeAfter");
        var nodes = block.Nodes!;
        if (block.FreeAfter.Count != 0 && block.FreeAfter.Count != nodes.Count)
        {
            throw Inconsistent($"{blockAt}.freeAfter has {block.FreeAfter.Count} entries for {nodes.Count} nodes");
        }
        var outputs = block.Outputs.ToHashSet(StringComparer.Ordinal);
        var available = block.Inputs.Concat(block.Weights).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var at = $"{blockAt}.nodes[{i}]";
            var node = Present(nodes[i], at);
            Text(node.Target, $"{at}.target");
            Present(node.Origin, $"{at}.origin");
            at = $"{at} ({node.Target})";
            Present(node.Inputs, $"{at}.inputs");
            for (var j = 0; j < node.Inputs.Count; j++)
            {
                var input = Present(node.Inputs[j], $"{at}.inputs[{j}]");
                // Higher-order operators pass their operands positionally, with empty names.
                Present(input.Name, $"{at}.inputs[{j}].name");
                foreach (var name in Reads(Present(input.Value, $"{at}.inputs[{j}].value"), $"{at}.inputs[{j}].value"))
                {
                    if (!available.Contains(name))
                    {
                        throw Inconsistent($"{at} reads value '{name}' (argument '{input.Name}'), which is no input or weight of its block and no earlier node produces (or it was freed)");
                    }
                }
            }
            Present(node.Outputs, $"{at}.outputs");
            for (var j = 0; j < node.Outputs.Count; j++)
            {
                available.UnionWith(Produces(Present(node.Outputs[j], $"{at}.outputs[{j}]"), $"{at}.outputs[{j}]"));
            }
            if (block.FreeAfter.Count > 0)
            {
                var free = Names(block.FreeAfter[i], $"{blockAt}.freeAfter[{i}]");
                available.ExceptWith(free.Where(name => !outputs.Contains(name)));
            }
        }
        var missing = block.Outputs.Where(o => !available.Contains(o)).ToList();
        if (missing.Count > 0)
        {
            throw Inconsistent($"{blockAt}.outputs name {string.Join(", ", missing.Select(o => $"'{o}'"))}, which no node of the block produces");
        }
    }

    /// <summary>The value names an argument reads, after checking that its fields are present.</summary>
    private List<string> Reads(Argument value, string at)
    {
        switch (value)
        {
            case TensorArg t:
                return [Text(t.Name, $"{at}.name")];
            case TensorsArg t:
                return [.. Names(t.Names, $"{at}.names")];
            case OptionalTensorsArg t:
                return [.. Present(t.Names, $"{at}.names").Select((n, k) => n is null ? null : Text(n, $"{at}.names[{k}]")).OfType<string>()];
            case SymIntArg s:
                return SymIntName(s.Value, $"{at}.value") is { } name ? [name] : [];
            case SymIntsArg s:
                return [.. Present(s.Values, $"{at}.values").Select((v, k) => SymIntName(v, $"{at}.values[{k}]")).OfType<string>()];
            case SymFloatArg { Name: { } floatName }:
                return [floatName];
            case SymBoolArg { Name: { } boolName }:
                return [boolName];
            case GraphArg g:
                // A subgraph reads only its own inputs, which the operator binds; its nodes are checked when it is prepared.
                Present(g.Graph, $"{at}.graph");
                return [];
            case IntsArg i:
                return ReadsNothing(i.Values, $"{at}.values");
            case FloatsArg f:
                return ReadsNothing(f.Values, $"{at}.values");
            case BoolsArg b:
                return ReadsNothing(b.Values, $"{at}.values");
            case StringArg s:
                return ReadsNothing(s.Value, $"{at}.value");
            case DeviceArg d:
                return ReadsNothing(Device(d.Type, $"{at}.type"), $"{at}.type");
            default:
                return [];
        }
    }

    /// <summary>An argument that holds values, not names: its one field must be there.</summary>
    private List<string> ReadsNothing(object? field, string at)
    {
        Present(field, at);
        return [];
    }

    /// <summary>The value names an output defines; the executor binds tensors, tensor lists, named sym-ints and None.</summary>
    private List<string> Produces(Argument output, string at) => output switch
    {
        TensorArg t => [Present(t.Name, $"{at}.name")],
        TensorsArg t => [.. Present(t.Names, $"{at}.names").Select((n, k) => Present(n, $"{at}.names[{k}]"))],
        SymIntArg s => [SymIntName(s.Value, $"{at}.value") ?? throw Inconsistent($"{at} is a literal; a node's sym-int output needs a name")],
        SymFloatArg { Name: { } name } => [name],
        SymBoolArg { Name: { } name } => [name],
        NoneArg => [],
        _ => throw Inconsistent($"{at} is a {output.GetType().Name}; a node's outputs are tensors, tensor lists, named sym values or none"),
    };

    private string? SymIntName(SymInt value, string at)
    {
        Present(value, at);
        if ((value.Literal is null) == (value.Name is null))
        {
            throw Missing($"{at} holds neither a literal nor a name (or both)");
        }
        return value.Name is null ? null : Text(value.Name, $"{at}.name");
    }

    private void Agreement(EngineManifest manifest, ExecutionPlan plan)
    {
        if (!plan.Inputs.SequenceEqual(manifest.Inputs.Select(i => i.Name), StringComparer.Ordinal))
        {
            throw Inconsistent($"plan.inputs ({string.Join(", ", plan.Inputs)}) differ from manifest.inputs ({string.Join(", ", manifest.Inputs.Select(i => i.Name))})");
        }
        // Outputs pair by position (a value the plan casts back to fp32 at the boundary has a name of its own); after the
        // model's outputs, the plan returns the new values of the inputs the model writes in place.
        if (plan.Outputs.Count != manifest.Outputs.Count + manifest.MutatedInputs.Count)
        {
            throw Inconsistent($"plan.outputs has {plan.Outputs.Count} values for manifest.outputs' {manifest.Outputs.Count} and {manifest.MutatedInputs.Count} mutated inputs");
        }
        var unknown = manifest.MutatedInputs.Where(m => !manifest.Inputs.Any(i => i.Name == m)).ToList();
        if (unknown.Count > 0)
        {
            throw Inconsistent($"manifest.mutatedInputs names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which is no input");
        }
        if (plan.Device != manifest.Target.Device)
        {
            throw Inconsistent($"plan.device is '{plan.Device}' but manifest.target.device is '{manifest.Target.Device}'");
        }
    }

    private SymExpr Expression(string text, string at)
    {
        try
        {
            return SymExpr.Parse(text);
        }
        catch (ModelBuildException e) when (e.File is null)
        {
            throw new ModelBuildException(e.Code, $"{at}: {e.Detail}", _file, e);
        }
    }

    private IReadOnlyList<string> Names(IReadOnlyList<string> names, string at)
    {
        Present(names, at);
        for (var i = 0; i < names.Count; i++)
        {
            Text(names[i], $"{at}[{i}]");
        }
        return names;
    }

    private string Device(string device, string at) =>
        Text(device, at) is "cpu" or "cuda" ? device : throw Inconsistent($"{at} is '{device}', not cpu or cuda");

    private void DType(string dtype, string at)
    {
        if (!TensorDTypes.TryParse(Text(dtype, at), out _))
        {
            throw Inconsistent($"{at} is '{dtype}', not a safetensors dtype (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        }
    }

    private T Present<T>(T? value, string at) where T : class => value ?? throw Missing($"{at} is missing or null");

    private string Text(string? value, string at) =>
        string.IsNullOrEmpty(Present(value, at)) ? throw Missing($"{at} is empty") : value!;

    private ModelBuildException Missing(string what) =>
        new(DiagnosticCodes.EngineFieldMissing, $"the engine's {what}; the file is damaged or was not written by modelc. Compile it again.", _file);

    private ModelBuildException Inconsistent(string what) =>
        new(DiagnosticCodes.EngineInconsistent, $"the engine is inconsistent: {what}. Compile it again.", _file);
}
