using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// Lowers blocks of the graph IR to ONNX models. A node lowers when a rule exists for its target and the rule accepts
/// its argument values and dtypes (the rule runs against a probing builder to find out); otherwise
/// <see cref="Unsupported"/> says why. Weights the block reads become initializers, symbolic dims named dims, and
/// sym-ints 0-d int64 values (as they cross block boundaries).
/// </summary>
public static class OnnxLowering
{
    /// <summary>The default-domain opset of the models: 20, the one PyTorch's exporter writes (Gelu, Split with sizes as an input).</summary>
    public const int Opset = 20;

    internal const long IrVersion = 10;

    private static readonly FrozenDictionary<string, Rule> Rules = LoweringRules.Build();

    private static readonly ConditionalWeakTable<ModelGraph, GraphFacts> Facts = new();

    /// <summary>The targets that have a rule (whether a node lowers also depends on its arguments and dtypes).</summary>
    public static IReadOnlyCollection<string> Targets => Rules.Keys;

    /// <summary>Null when <paramref name="node"/> of <paramref name="graph"/> lowers to ONNX, else why not.</summary>
    public static string? Unsupported(GraphNode node, ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(graph);
        var facts = Facts.GetValue(graph, g => new GraphFacts(g));
        lock (facts)
        {
            if (!facts.Support.TryGetValue(node, out var reason))
            {
                reason = facts.Support[node] = Probe(node, facts.Probe);
            }
            return reason;
        }
    }

    /// <summary>
    /// The ONNX model of a block: <paramref name="inputs"/> become graph inputs, <paramref name="nodes"/> are lowered in
    /// order, <paramref name="outputs"/> become graph outputs under their IR names.
    /// </summary>
    public static byte[] Lower(IReadOnlyList<GraphNode> nodes, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(graph);
        var builder = OnnxGraphBuilder.For(graph);
        foreach (var input in inputs)
        {
            builder.Input(input);
        }
        foreach (var node in nodes)
        {
            var rule = Rules.TryGetValue(node.Target, out var r) ? r : throw new InvalidOperationException($"no ONNX rule for {node.Target}");
            Bind(node, rule(new LoweringNode(node, builder)), builder);
        }
        foreach (var output in outputs)
        {
            builder.Output(output);
        }
        return builder.Model(Opset).ToByteArray();
    }

    /// <summary>The values some node reads or the graph outputs, per graph (rules ask whether an optional output is used).</summary>
    internal static HashSet<string> Readers(ModelGraph graph) => Facts.GetValue(graph, g => new GraphFacts(g)).Read;

    private static string? Probe(GraphNode node, OnnxGraphBuilder probe)
    {
        if (!Rules.TryGetValue(node.Target, out var rule))
        {
            return "no ONNX lowering rule for this operator";
        }
        try
        {
            var lowering = new LoweringNode(node, probe);
            var results = rule(lowering);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (Produces(node.Outputs[i]) && (i >= results.Length || results[i] is null) && (node.Outputs[i] is TensorsArg || lowering.IsRead(i)))
                {
                    return $"the rule does not produce output {i}";
                }
            }
            return null;
        }
        catch (NotLowerableException e)
        {
            return e.Message;
        }
        catch (OverflowException)
        {
            return "a constant argument does not fit the dtype of the tensor it applies to";
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or KeyNotFoundException)
        {
            // A node of a shape the rule did not foresee stays on the fallback rather than failing the compile.
            return $"the rule does not handle this node ({e.GetType().Name}: {e.Message})";
        }
    }

    private static bool Produces(Argument output) => output is TensorArg or TensorsArg or SymIntArg { Value.Name: not null };

    /// <summary>Records the ONNX value of each IR output the node writes (outputs nobody reads may have none).</summary>
    private static void Bind(GraphNode node, object?[] results, OnnxGraphBuilder builder)
    {
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            switch (node.Outputs[i])
            {
                case TensorArg t when i < results.Length && results[i] is string value:
                    builder.Bind(t.Name, value);
                    break;
                case SymIntArg { Value.Name: { } n }:
                    builder.Bind(n, (string)results[i]!);
                    break;
                case TensorsArg ts:
                    var values = (string[])results[i]!;
                    for (var j = 0; j < ts.Names.Count; j++)
                    {
                        builder.Bind(ts.Names[j], values[j]);
                    }
                    break;
            }
        }
    }

    /// <summary>What the rules ask of a whole graph, computed once per graph: which values are read, and each node's verdict.</summary>
    private sealed class GraphFacts(ModelGraph graph)
    {
        public HashSet<string> Read { get; } = [.. graph.Nodes.SelectMany(n => n.Inputs).SelectMany(a => Names(a.Value)).Concat(graph.Outputs.Select(o => o.Name))];

        public OnnxGraphBuilder Probe { get; } = OnnxGraphBuilder.Probe(graph);

        public Dictionary<GraphNode, string?> Support { get; } = new(ReferenceEqualityComparer.Instance);

        private static IEnumerable<string> Names(Argument argument) => argument switch
        {
            TensorArg t => [t.Name],
            TensorsArg ts => ts.Names,
            OptionalTensorsArg ots => ots.Names.OfType<string>(),
            SymIntArg s => s.Value.Name is { } n ? [n] : [],
            SymIntsArg ss => ss.Values.Select(v => v.Name).OfType<string>(),
            _ => [],
        };
    }
}

/// <summary>A lowering rule: emits a node's ONNX form and returns, per IR output, its ONNX value (string, or string[] for a list; null for None).</summary>
internal delegate object?[] Rule(LoweringNode node);
