using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Backends;

/// <summary>
/// Splits a graph into blocks by backend (Torch-TensorRT's partitioner is the model): every node goes to the first
/// backend of the preference list that runs it (ops the item forces go to the last, the fallback); nodes are then
/// ordered so that each backend's nodes stay together as far as the dependencies allow; a block of a preferred backend
/// with fewer than MinBlockSize compute nodes moves to the next backend that runs its nodes, since every switch costs
/// a hand-over of values (a graph that is one block of a preferred backend stays there).
/// </summary>
public static class Partitioner
{
    /// <param name="backends">in order of preference; the last is the fallback.</param>
    /// <param name="minBlockSize">the fewest compute nodes (not sym-int arithmetic or asserts) a block of a preferred backend may have.</param>
    /// <param name="forcedToFallback">targets (<c>torch.ops.aten.softmax.int</c>, or <c>aten.softmax</c> for every overload) that the fallback runs whatever the preference.</param>
    public static IReadOnlyList<(IBackendCompiler Backend, BlockGraph Block)> Run(
        ModelGraph graph, IReadOnlyList<IBackendCompiler> backends, int minBlockSize, IReadOnlyCollection<string> forcedToFallback)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var nodes = graph.Nodes;
        var fallback = backends.Count - 1;
        var supported = nodes.Select(n => backends.Select(b => b.Unsupported(n, graph) is null).ToArray()).ToArray();
        var assign = new int[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            var forced = IsForced(nodes[i].Target, forcedToFallback) && supported[i][fallback];
            assign[i] = forced ? fallback : Array.IndexOf(supported[i], true);
            if (assign[i] < 0)
            {
                throw new InvalidOperationException($"no backend runs {nodes[i].Target}; the lowering check lets no such graph through.");
            }
        }
        while (true)
        {
            var blocks = Cluster(graph, assign);
            // A block that is the whole graph hands nothing over, whatever its size.
            var small = blocks.Count == 1 ? [] : blocks.Where(b => b.Backend != fallback && b.Nodes.Count(i => IsCompute(nodes[i])) < minBlockSize).ToList();
            var moved = false;
            foreach (var block in small)
            {
                foreach (var i in block.Nodes)
                {
                    var next = Array.FindIndex(supported[i], assign[i] + 1, s => s);
                    if (next >= 0)
                    {
                        assign[i] = next;
                        moved = true;
                    }
                }
            }
            if (!moved)
            {
                return [.. blocks.Select(b => (backends[b.Backend], Describe(graph, b.Nodes, blocks.Where(o => o != b).SelectMany(o => o.Nodes))))];
            }
        }
    }

    /// <summary>Sym-int arithmetic and assertions cost nothing and do not make a block worth its hand-over.</summary>
    public static bool IsCompute(GraphNode node) =>
        !node.Target.StartsWith("_operator.", StringComparison.Ordinal) && !node.Target.Contains("sym_size", StringComparison.Ordinal)
        && !node.Target.Contains("_assert", StringComparison.Ordinal) && !node.Target.Contains("sym_constrain", StringComparison.Ordinal);

    private static bool IsForced(string target, IReadOnlyCollection<string> forced) =>
        forced.Any(f => target == f || target == "torch.ops." + f || target.StartsWith("torch.ops." + f + ".", StringComparison.Ordinal));

    /// <summary>A topological order that switches backend only when no ready node of the current one is left.</summary>
    private static List<(int Backend, List<int> Nodes)> Cluster(ModelGraph graph, int[] assign)
    {
        var nodes = graph.Nodes;
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var name in nodes[i].Writes())
            {
                producer[name] = i;
            }
        }
        var successors = nodes.Select(_ => new List<int>()).ToArray();
        var waiting = new int[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var p in nodes[i].Reads().Where(producer.ContainsKey).Select(n => producer[n]).Distinct())
            {
                successors[p].Add(i);
                waiting[i]++;
            }
        }
        var ready = new SortedSet<int>(Enumerable.Range(0, nodes.Count).Where(i => waiting[i] == 0));
        var blocks = new List<(int Backend, List<int> Nodes)>();
        while (ready.Count > 0)
        {
            var current = blocks.Count > 0 ? blocks[^1].Backend : -1;
            var pick = ready.FirstOrDefault(i => assign[i] == current, -1);
            if (pick < 0)
            {
                pick = ready.Min;
                blocks.Add((assign[pick], []));
            }
            ready.Remove(pick);
            blocks[^1].Nodes.Add(pick);
            foreach (var s in successors[pick])
            {
                if (--waiting[s] == 0)
                {
                    ready.Add(s);
                }
            }
        }
        return blocks;
    }

    /// <summary>The block's nodes with the values it reads from outside (not weights) and the values read outside it.</summary>
    private static BlockGraph Describe(ModelGraph graph, List<int> indices, IEnumerable<int> others)
    {
        var weights = graph.Weights.Select(w => w.ValueName).ToHashSet(StringComparer.Ordinal);
        var nodes = indices.Select(i => graph.Nodes[i]).ToList();
        var produced = nodes.SelectMany(n => n.Writes()).ToHashSet(StringComparer.Ordinal);
        var inputs = nodes.SelectMany(n => n.Reads()).Where(n => !produced.Contains(n) && !weights.Contains(n)).Distinct(StringComparer.Ordinal).ToList();
        var readOutside = others.SelectMany(i => graph.Nodes[i].Reads()).Concat(graph.Outputs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        var outputs = nodes.SelectMany(n => n.Writes()).Where(readOutside.Contains).Distinct(StringComparer.Ordinal).ToList();
        return new BlockGraph(nodes, inputs, outputs);
    }
}
