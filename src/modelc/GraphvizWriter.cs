using System.Globalization;
using System.Text;

namespace ModelBuild.Cli;

/// <summary>A node to draw: its label and the values it reads and writes (edges join a value's writer to its readers).</summary>
internal sealed record DotNode(string Label, IReadOnlyList<string> Reads, IReadOnlyList<string> Writes);

/// <summary>A block to draw: one cluster, filled with its backend's colour.</summary>
internal sealed record DotBlock(string Backend, IReadOnlyList<DotNode> Nodes);

/// <summary>
/// A Graphviz (DOT) picture of a plan: one cluster per block, coloured by backend, the model's inputs and outputs as
/// ellipses, an edge wherever a node reads what another wrote. Weights and constants are left out.
/// </summary>
internal static class GraphvizWriter
{
    private static readonly IReadOnlyDictionary<string, string> Colours = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["onnxruntime"] = "#9ecae1",
        ["torch"] = "#fdae6b",
        ["torchscript"] = "#bcbddc",
    };

    public static string Write(string title, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<DotBlock> blocks)
    {
        var ci = CultureInfo.InvariantCulture;
        var dot = new StringBuilder();
        dot.AppendLine("digraph plan {");
        dot.AppendLine(ci, $"  label={Quote(title)}; labelloc=t; fontname=\"Helvetica\"; rankdir=TB;");
        dot.AppendLine("  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];");
        dot.AppendLine("  edge [arrowsize=0.6, color=\"#555555\"];");
        var writer = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            writer[inputs[i]] = $"in{i}";
            dot.AppendLine(ci, $"  in{i} [label={Quote(inputs[i])}, shape=ellipse, style=filled, fillcolor=\"#eeeeee\"];");
        }
        var ids = new List<(string Id, DotNode Node)>();
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var colour = Colours.TryGetValue(block.Backend, out var c) ? c : "#dddddd";
            dot.AppendLine(ci, $"  subgraph cluster_{b} {{");
            dot.AppendLine(ci, $"    label={Quote($"block {b}: {block.Backend}, {block.Nodes.Count} nodes")}; style=filled; color={Quote(colour)}; fillcolor={Quote(colour)};");
            foreach (var node in block.Nodes)
            {
                var id = $"n{ids.Count}";
                ids.Add((id, node));
                dot.AppendLine(ci, $"    {id} [label={Quote(node.Label)}];");
                foreach (var value in node.Writes)
                {
                    writer[value] = id;
                }
            }
            dot.AppendLine("  }");
        }
        foreach (var (id, node) in ids)
        {
            foreach (var from in node.Reads.Where(writer.ContainsKey).Select(v => writer[v]).Distinct(StringComparer.Ordinal))
            {
                dot.AppendLine(ci, $"  {from} -> {id};");
            }
        }
        for (var o = 0; o < outputs.Count; o++)
        {
            dot.AppendLine(ci, $"  out{o} [label={Quote(outputs[o])}, shape=ellipse, style=filled, fillcolor=\"#eeeeee\"];");
            if (writer.TryGetValue(outputs[o], out var from))
            {
                dot.AppendLine(ci, $"  {from} -> out{o};");
            }
        }
        dot.AppendLine("}");
        return dot.ToString();
    }

    /// <summary>The short name of an operator target: <c>torch.ops.aten.conv2d.default</c> is conv2d, <c>_operator.mul</c> mul, <c>onnx::Conv</c> Conv.</summary>
    public static string ShortName(string target)
    {
        if (target.StartsWith("torch.ops.", StringComparison.Ordinal))
        {
            var parts = target.Split('.');
            return parts.Length >= 4 ? parts[3] : target;
        }
        var separator = Math.Max(target.LastIndexOf("::", StringComparison.Ordinal) + 1, target.LastIndexOf('.'));
        return separator > 0 ? target[(separator + 1)..] : target;
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
