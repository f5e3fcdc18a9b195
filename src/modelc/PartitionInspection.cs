using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Container;
using ModelBuild.Onnx.Proto;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc inspect --partition</c> and <c>--dot</c>: the blocks a compile would cut (which backend runs which nodes)
/// and, for every node the preferred backend does not run, the reason its rule gives; or, for an engine, the blocks it
/// holds (an ONNX Runtime block drawn with the nodes of its optimized payload).
/// </summary>
internal static class PartitionInspection
{
    public static string Text(ModelPartition partition)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var blocks = partition.Blocks;
        sb.AppendLine(ci, $"partition ({partition.Candidate}): {blocks.Count} block{(blocks.Count == 1 ? "" : "s")}, {blocks.Sum(b => b.Block.Nodes.Count)} nodes");
        for (var b = 0; b < blocks.Count; b++)
        {
            sb.AppendLine(ci, $"  block {b}: {blocks[b].Backend,-11} {blocks[b].Block.Nodes.Count,4} nodes");
        }
        if (partition.NotRun.Count > 0)
        {
            sb.AppendLine(ci, $"not run on {partition.NotRun[0].Backend} ({partition.NotRun.Count} nodes)");
            foreach (var group in partition.NotRun.GroupBy(v => (v.Node.Target, v.Reason)).OrderByDescending(g => g.Count()))
            {
                sb.AppendLine(ci, $"  {group.Count(),4}  {group.Key.Target} ({group.First().Node.DisplayName()}{(group.Count() > 1 ? ", ..." : "")}): {group.Key.Reason}");
            }
        }
        return sb.ToString();
    }

    public static JsonObject Json(ModelPartition partition) => new()
    {
        ["candidate"] = partition.Candidate,
        ["blocks"] = new JsonArray([.. partition.Blocks.Select(b => (JsonNode)new JsonObject
        {
            ["backend"] = b.Backend,
            ["nodes"] = b.Block.Nodes.Count,
            ["inputs"] = new JsonArray([.. b.Block.Inputs.Select(i => (JsonNode)i)]),
            ["outputs"] = new JsonArray([.. b.Block.Outputs.Select(o => (JsonNode)o)]),
        })]),
        ["notRun"] = new JsonArray([.. partition.NotRun.Select(v => (JsonNode)new JsonObject
        {
            ["node"] = v.Node.DisplayName(),
            ["target"] = v.Node.Target,
            ["backend"] = v.Backend,
            ["reason"] = v.Reason,
        })]),
    };

    public static string Dot(ModelPartition partition, string title) => GraphvizWriter.Write(title,
        [.. partition.Graph.Inputs.Select(i => i.Name)], [.. partition.Graph.Outputs.Select(o => o.Name)],
        [.. partition.Blocks.Select(b => new DotBlock(b.Backend, [.. b.Block.Nodes.Select(n => new DotNode(GraphvizWriter.ShortName(n.Target), [.. n.Reads()], [.. n.Writes()]))]))]);

    /// <summary>An engine's plan: blocks that keep their nodes show them; an ONNX Runtime block shows its payload's (optimized) nodes.</summary>
    public static string Dot(EngineFile engine, string title) => GraphvizWriter.Write(title, engine.Plan.Inputs, engine.Plan.Outputs,
        [.. engine.Plan.Blocks.Select(b => new DotBlock(b.Backend, b.Nodes is { } nodes
            ? [.. nodes.Select(n => new DotNode(GraphvizWriter.ShortName(n.Target), [.. n.Reads()], [.. n.Writes()]))]
            : b.Payload is { } payload && b.Backend == "onnxruntime" ? OnnxNodes(engine.Tensors.Data(payload))
            : [new DotNode(b.Backend, b.Inputs, b.Outputs)]))]);

    private static List<DotNode> OnnxNodes(ReadOnlyMemory<byte> payload) =>
        [.. ModelProto.Parser.ParseFrom(payload.Span).Graph.Node.Select(n => new DotNode(n.OpType, [.. n.Input], [.. n.Output]))];
}
