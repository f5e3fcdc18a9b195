using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Rewrites in-place ATen operators (<c>torch.ops.aten.relu_.default</c>, <c>add_.Tensor</c>) into their functional
/// form (<c>relu.default</c>, <c>add.Tensor</c>) where a kernel for it exists, and renames every later read of the
/// mutated tensor, graph outputs included, to the node's result: after the mutation, that name denotes the new value.
/// A user input mutated in place becomes an input mutation of the graph (torch.export's USER_INPUT_MUTATION): its final
/// value is an output the runtime writes back into the caller's tensor. A mutation the functional form cannot express
/// fails with a coded error: of a view of a graph input, of a weight, of an input of a higher-order operator's subgraph,
/// or of a tensor whose alias (a view taken of it, or the base it is a view of) is read after the mutation. Subgraphs
/// are rewritten the same way. Runs first, before the lowering check, on the graph the reference interpreter also runs.
/// </summary>
public static partial class Functionalization
{
    /// <summary>
    /// Operators whose result may share storage with their <c>self</c> (or <c>input</c>): a mutation of one is seen
    /// through the other. <c>reshape</c>, <c>contiguous</c> and <c>to</c> alias only sometimes; they count, to be safe.
    /// </summary>
    private static readonly HashSet<string> AliasingOperators = new(StringComparer.Ordinal)
    {
        "view", "_unsafe_view", "_reshape_alias", "reshape", "view_as", "reshape_as", "alias", "detach",
        "slice", "select", "narrow", "transpose", "t", "permute", "movedim", "swapaxes", "swapdims",
        "expand", "expand_as", "squeeze", "unsqueeze", "flatten", "unflatten", "diagonal", "as_strided", "unfold",
        "split", "split_with_sizes", "chunk", "unbind", "tensor_split", "contiguous", "to", "type_as",
        "real", "imag", "view_as_real", "view_as_complex",
    };

    /// <summary>In-place operators whose functional form names the mutated argument differently (<c>dropout_(self)</c>, <c>dropout(input)</c>).</summary>
    private static readonly Dictionary<string, string> FunctionalSelfName = new(StringComparer.Ordinal)
    {
        ["dropout"] = "input",
        ["alpha_dropout"] = "input",
        ["feature_dropout"] = "input",
        ["feature_alpha_dropout"] = "input",
    };

    /// <summary>The graph without the in-place operators that have a functional kernel; unchanged when it has none.</summary>
    public static ModelGraph Run(ModelGraph graph, Func<string, bool> isSupported, string file)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(isSupported);
        if (!graph.Nodes.WithNested().Any(n => InPlace(n.Target) is not null))
        {
            return graph;
        }

        var scope = new Scope(graph.Nodes, [.. graph.Outputs.Select(o => o.Name)], graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal),
            graph.Weights.ToDictionary(w => w.ValueName, w => w.StateName, StringComparer.Ordinal), InputsMutable: true, isSupported, file);
        var (nodes, renames, mutated) = Rewrite(scope);
        var outputs = graph.Outputs.Select(o => o with { Name = Resolve(o.Name, renames) }).ToList();
        var newlyMutated = graph.Inputs.Where(i => mutated.Contains(i.Name) && !graph.MutatedInputs.Contains(i.Name)).ToList();
        // The new values of inputs mutated in place follow the outputs, as the graph keeps input mutations.
        outputs.AddRange(newlyMutated.Select(i => i with { Name = Resolve(i.Name, renames) }));
        return graph.With(nodes: nodes, outputs: outputs, mutatedInputs: [.. graph.MutatedInputs, .. newlyMutated.Select(i => i.Name)]);
    }

    /// <summary>The nodes of a graph or a subgraph and what they may mutate: user inputs only at the top, where the runtime writes them back.</summary>
    private sealed record Scope(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<string> Outputs, HashSet<string> Inputs, Dictionary<string, string> Weights,
        bool InputsMutable, Func<string, bool> IsSupported, string File);

    /// <summary>The scope's nodes in functional form, the renames of mutated values, and the inputs mutated in place.</summary>
    private static (List<GraphNode> Nodes, Dictionary<string, string> Renames, HashSet<string> MutatedInputs) Rewrite(Scope scope)
    {
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        var mutated = new HashSet<string>(StringComparer.Ordinal);
        var aliases = new AliasSets();
        var nodes = new List<GraphNode>(scope.Nodes.Count);
        for (var i = 0; i < scope.Nodes.Count; i++)
        {
            var node = Renamed(scope.Nodes[i], renames).WithSubgraphs(s => Rewritten(s, scope));
            if (InPlace(node.Target) is { } functional && scope.IsSupported(functional.Target)
                && node.Inputs.FirstOrDefault(a => a.Name == "self")?.Value is TensorArg self
                && node.Outputs is [TensorArg result])
            {
                CheckMutable(node, self.Name, scope, i, renames, aliases);
                if (scope.Inputs.Contains(self.Name))
                {
                    mutated.Add(self.Name);
                }
                node = node with
                {
                    Target = functional.Target,
                    Inputs = [.. node.Inputs.Select(a => a.Name == "self" ? a with { Name = functional.SelfName } : a)],
                };
                renames[self.Name] = result.Name;
            }
            else if (Operator(node.Target) is { } op && AliasingOperators.Contains(op)
                && node.Inputs.FirstOrDefault(a => a.Name is "self" or "input")?.Value is TensorArg source)
            {
                foreach (var written in node.Writes())
                {
                    aliases.Join(source.Name, written);
                }
            }
            nodes.Add(node);
        }
        return (nodes, renames, mutated);
    }

    /// <summary>A subgraph in functional form; its inputs are the operator's operands, which it must not mutate.</summary>
    private static Subgraph Rewritten(Subgraph subgraph, Scope outer)
    {
        if (!subgraph.Nodes.WithNested().Any(n => InPlace(n.Target) is not null))
        {
            return subgraph;
        }
        var inputs = subgraph.Inputs.SelectMany(GraphValueNames.Read).ToHashSet(StringComparer.Ordinal);
        var outputs = subgraph.Outputs.SelectMany(GraphValueNames.Read).ToList();
        var (nodes, renames, _) = Rewrite(new Scope(subgraph.Nodes, outputs, inputs, [], InputsMutable: false, outer.IsSupported, outer.File));
        var resolved = outputs.Distinct(StringComparer.Ordinal).ToDictionary(o => o, o => Resolve(o, renames), StringComparer.Ordinal);
        return subgraph with { Nodes = nodes, Outputs = [.. subgraph.Outputs.Select(o => GraphValueNames.Rename(o, resolved))] };
    }

    /// <summary>The functional target of an in-place ATen target and the name it gives <c>self</c>; null when the target is not in-place.</summary>
    internal static (string Target, string SelfName)? InPlace(string target)
    {
        var match = AtenTarget().Match(target);
        if (!match.Success)
        {
            return null;
        }
        var name = match.Groups["name"].Value;
        string functional;
        if (DunderInPlace().Match(name) is { Success: true } dunder)
        {
            functional = $"__{dunder.Groups["op"].Value}__";
        }
        else if (name.EndsWith('_') && !name.EndsWith("__", StringComparison.Ordinal) && name.Length > 1)
        {
            functional = name[..^1];
        }
        else
        {
            return null;
        }
        return ($"torch.ops.aten.{functional}.{match.Groups["overload"].Value}", FunctionalSelfName.GetValueOrDefault(functional, "self"));
    }

    private static string? Operator(string target) => AtenTarget().Match(target) is { Success: true } m ? m.Groups["name"].Value : null;

    private static void CheckMutable(GraphNode node, string self, Scope scope, int index, Dictionary<string, string> renames, AliasSets aliases)
    {
        var what = $"node '{node.DisplayName()}' ({node.Target}){At(node)}";
        foreach (var alias in aliases.Of(self))
        {
            var through = alias == self ? "" : $" through its view '{self}'";
            if (scope.Inputs.Contains(alias) && (alias != self || !scope.InputsMutable))
            {
                var input = scope.InputsMutable ? $"the graph input '{alias}'{through}" : $"'{alias}'{through}, an input of a higher-order operator's subgraph,";
                throw new ModelBuildException(DiagnosticCodes.InPlaceMutatesInput,
                    $"{what} mutates {input} in place, which ModelBuild cannot write back (it writes back inputs the model itself mutates in place): "
                    + "use the out-of-place form in the model (x = x.op() instead of x.op_(), inplace=False), or clone the input first.", scope.File);
            }
            if (scope.Weights.TryGetValue(alias, out var state))
            {
                throw new ModelBuildException(DiagnosticCodes.InPlaceMutatesWeight,
                    $"{what} mutates the weight '{state}'{through}. Engine weights are constant: use the out-of-place form in the model, "
                    + "or export in eval mode so that buffers are not updated.", scope.File);
            }
        }

        foreach (var alias in aliases.Of(self).Where(a => a != self))
        {
            var reader = LaterReader(alias, scope, index, renames);
            if (reader is not null)
            {
                throw new ModelBuildException(DiagnosticCodes.InPlaceMutatesAliasedTensor,
                    $"{what} mutates '{self}', and '{alias}', which shares its storage, is read after it by {reader}: "
                    + "the compiled engine would give that reader the old values. Take the view after the in-place op, "
                    + "or use the out-of-place form in the model.", scope.File);
            }
        }
    }

    /// <summary>The first reader of <paramref name="name"/> after node <paramref name="index"/>, as the renames so far read it; null when none.</summary>
    private static string? LaterReader(string name, Scope scope, int index, Dictionary<string, string> renames)
    {
        for (var j = index + 1; j < scope.Nodes.Count; j++)
        {
            var later = scope.Nodes[j];
            if (later.Reads().Any(r => Resolve(r, renames) == name))
            {
                return $"node '{later.DisplayName()}' ({later.Target}){At(later)}";
            }
        }
        return scope.Outputs.Any(o => Resolve(o, renames) == name) ? "the graph's outputs" : null;
    }

    private static string At(GraphNode node) => node.Origin.Length > 0 ? $" at {node.Origin}" : "";

    private static GraphNode Renamed(GraphNode node, Dictionary<string, string> renames)
    {
        if (renames.Count == 0 || !node.Reads().Any(renames.ContainsKey))
        {
            return node;
        }
        var resolved = node.Reads().Distinct(StringComparer.Ordinal).ToDictionary(r => r, r => Resolve(r, renames), StringComparer.Ordinal);
        return node with { Inputs = [.. node.Inputs.Select(a => a with { Value = GraphValueNames.Rename(a.Value, resolved) })] };
    }

    /// <summary>The name that denotes a value now: a tensor mutated twice is renamed twice.</summary>
    private static string Resolve(string name, Dictionary<string, string> renames)
    {
        while (renames.TryGetValue(name, out var to))
        {
            name = to;
        }
        return name;
    }

    [GeneratedRegex(@"^torch\.ops\.aten\.(?<name>[A-Za-z0-9_]+)\.(?<overload>[A-Za-z0-9_]+)$")]
    private static partial Regex AtenTarget();

    [GeneratedRegex(@"^__i(?<op>[a-z]+)__$")]
    private static partial Regex DunderInPlace();

    /// <summary>Values that share storage, as disjoint sets.</summary>
    private sealed class AliasSets
    {
        private readonly Dictionary<string, HashSet<string>> _sets = new(StringComparer.Ordinal);

        public void Join(string a, string b)
        {
            var sa = Set(a);
            var sb = Set(b);
            if (ReferenceEquals(sa, sb))
            {
                return;
            }
            sa.UnionWith(sb);
            foreach (var n in sb)
            {
                _sets[n] = sa;
            }
        }

        public IReadOnlyCollection<string> Of(string name) => _sets.TryGetValue(name, out var s) ? s : [name];

        private HashSet<string> Set(string name)
        {
            if (!_sets.TryGetValue(name, out var s))
            {
                s = new HashSet<string>(StringComparer.Ordinal) { name };
                _sets[name] = s;
            }
            return s;
        }
    }
}
