using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Replaces every <c>wrap_with_set_grad_enabled</c> region of the graph by its subgraph's nodes. Engines run in inference
/// mode, where grad mode changes nothing (the kernel only runs the subgraph); inlined, the region's nodes lower like any
/// other instead of staying on TorchSharp whole between ONNX Runtime blocks. The subgraph's inputs become the operator's
/// operands (positional from argument 2 on), its values take names unique in the graph with the metas the archive gives
/// them, and the node's outputs become the subgraph's outputs. Regions inside inlined regions inline too; those inside
/// the subgraphs of other higher-order operators (<c>cond</c>, <c>map_impl</c>, <c>while_loop</c>) stay, since those run
/// whole on TorchSharp anyway.
/// </summary>
public static class GradModeRegionInlining
{
    public const string Target = "torch.ops.higher_order.wrap_with_set_grad_enabled";

    public static ModelGraph Run(ModelGraph graph)
    {
        if (!graph.Nodes.Any(n => Region(n) is not null))
        {
            return graph;
        }
        var inliner = new Inliner(graph);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        inliner.Emit(graph.Nodes, names, scope: null);
        var outputs = graph.Outputs.Select(o => names.TryGetValue(o.Name, out var renamed) ? o with { Name = renamed } : o).ToList();
        return graph.With(nodes: inliner.Nodes, values: inliner.Values, outputs: outputs);
    }

    /// <summary>The region's subgraph and operand names; null when the node is no region, or one this pass leaves (a literal operand or output).</summary>
    private static (Subgraph Body, List<string> Operands)? Region(GraphNode node)
    {
        if (node.Target != Target || node.Inputs.Count < 2 || node.Inputs[1].Value is not GraphArg { Graph: var body })
        {
            return null;
        }
        var operands = new List<string>();
        foreach (var argument in node.Inputs.Skip(2).Select(i => i.Value))
        {
            switch (argument)
            {
                case TensorArg or TensorsArg or SymIntArg { Value.Name: not null } or SymFloatArg { Name: not null } or SymBoolArg { Name: not null }:
                    operands.AddRange(GraphValueNames.Read(argument));
                    break;
                default:
                    return null;
            }
        }
        var named = body.Inputs.Concat(body.Outputs).All(a => GraphValueNames.Read(a).Count() == 1);
        return named && operands.Count == body.Inputs.Count && NodeOutputs(node).Count == body.Outputs.Count ? (body, operands) : null;
    }

    /// <summary>The node's outputs one value each, as the kernel hands out the subgraph's results (a list output takes as many); null where unnamed.</summary>
    private static List<string?> NodeOutputs(GraphNode node) =>
        [.. node.Outputs.SelectMany(o => o is TensorsArg list ? list.Names.Cast<string?>() : [GraphValueNames.Read(o).SingleOrDefault()])];

    private sealed class Inliner(ModelGraph graph)
    {
        // The names of the graph's own scope: an inlined value never takes one.
        private readonly HashSet<string> _taken = new(graph.Values.Keys.Concat(graph.SymIntValues.Keys).Concat(graph.Inputs.Select(i => i.Name))
            .Concat(graph.Weights.Select(w => w.ValueName)).Concat(graph.Nodes.SelectMany(n => n.Reads().Concat(n.Writes()))), StringComparer.Ordinal);

        public List<GraphNode> Nodes { get; } = [];

        public Dictionary<string, TensorMeta> Values { get; } = new(graph.Values, StringComparer.Ordinal);

        /// <summary>
        /// Emits the nodes of one scope, the graph's (<paramref name="scope"/> null) or an inlined subgraph's, with every
        /// name read or written as <paramref name="names"/> maps it (and, in a subgraph, every value written given a name).
        /// </summary>
        public void Emit(IEnumerable<GraphNode> nodes, Dictionary<string, string> names, Subgraph? scope)
        {
            foreach (var original in nodes)
            {
                var node = original with { Inputs = [.. original.Inputs.Select(i => i with { Value = GraphValueNames.Rename(i.Value, names) })] };
                if (Region(node) is ({ } body, { } operands))
                {
                    Splice(node, body, operands, names, scope);
                    continue;
                }
                foreach (var written in node.Writes())
                {
                    Written(written, names, scope);
                }
                Nodes.Add(node with { Outputs = [.. node.Outputs.Select(o => GraphValueNames.Rename(o, names))] });
            }
        }

        /// <summary>
        /// The region's body in place of the node. A value the body computes and returns takes the name the node's output
        /// has in the scope around it, so that its reads stay as they are; an output that is a body input (or returned
        /// twice) is read under the name it has.
        /// </summary>
        private void Splice(GraphNode node, Subgraph body, List<string> operands, Dictionary<string, string> outer, Subgraph? outerScope)
        {
            var inner = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (input, operand) in body.Inputs.Select(i => GraphValueNames.Read(i).Single()).Zip(operands))
            {
                inner[input] = operand;
            }
            var outputs = NodeOutputs(node);
            var returned = body.Outputs.Select(o => GraphValueNames.Read(o).Single()).ToList();
            var computed = new bool[outputs.Count];
            for (var j = 0; j < outputs.Count; j++)
            {
                if (outputs[j] is { } output && !inner.ContainsKey(returned[j]))
                {
                    inner[returned[j]] = Written(output, outer, outerScope);
                    if (body.Values.TryGetValue(returned[j], out var meta))
                    {
                        Values[inner[returned[j]]] = meta;
                    }
                    computed[j] = true;
                }
            }
            Emit(body.Nodes, inner, body);
            for (var j = 0; j < outputs.Count; j++)
            {
                if (outputs[j] is { } output && !computed[j])
                {
                    outer[output] = inner[returned[j]];
                }
            }
        }

        /// <summary>
        /// The name a value written in a scope has in the graph: as already given; its own in the graph's scope; else a
        /// name no other value has, which takes the value's meta.
        /// </summary>
        private string Written(string name, Dictionary<string, string> names, Subgraph? scope)
        {
            if (names.TryGetValue(name, out var given))
            {
                return given;
            }
            if (scope is null)
            {
                return name;
            }
            var unique = name;
            for (var n = 2; !_taken.Add(unique); n++)
            {
                unique = $"{name}_{n}";
            }
            if (scope.Values.TryGetValue(name, out var meta))
            {
                Values[unique] = meta;
            }
            return names[name] = unique;
        }
    }
}
