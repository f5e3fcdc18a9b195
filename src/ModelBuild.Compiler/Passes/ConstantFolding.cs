using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Evaluates at compile time every node that reads only weights (a transpose or permute of a weight, a reshape, a
/// cast) with the runtime's kernels and replaces it by a constant weight. Nodes that read no tensor at all (factories),
/// random ops, ops without a TorchSharp kernel (another backend runs them) and higher-order operators stay (a subgraph's
/// inputs are operands bound per call, never weights).
/// </summary>
public static class ConstantFolding
{
    public static ModelGraph Run(ModelGraph graph)
    {
        var weights = graph.Weights.ToDictionary(w => w.ValueName, StringComparer.Ordinal);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var folded = new List<Weight>();
        var kept = new List<GraphNode>();
        try
        {
            foreach (var node in graph.Nodes)
            {
                var reads = node.Reads().Distinct(StringComparer.Ordinal).ToList();
                if (reads.Count == 0 || !reads.All(weights.ContainsKey) || IsRandom(node.Target) || !OpKernels.IsSupported(node.Target)
                    || node.Outputs.Count == 0 || !node.Outputs.All(o => o is TensorArg) || node.Subgraphs().Any())
                {
                    kept.Add(node);
                    continue;
                }
                foreach (var name in reads.Where(n => !tensors.ContainsKey(n)))
                {
                    tensors[name] = weights[name].ToTensor();
                }
                object?[] results;
                using (no_grad())
                {
                    results = OpKernels.Invoke(node, name => tensors[name]);
                }
                for (var i = 0; i < node.Outputs.Count; i++)
                {
                    var name = ((TensorArg)node.Outputs[i]).Name;
                    var result = (Tensor)results[i]!;
                    var weight = result.ToWeight(name);
                    tensors[name] = result;
                    weights[name] = weight;
                    folded.Add(weight);
                }
            }
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
        if (folded.Count == 0)
        {
            return graph;
        }
        var values = graph.Values.ToDictionary();
        foreach (var w in folded)
        {
            values[w.ValueName] = w.Meta;
        }
        return graph.With(nodes: kept, weights: [.. graph.Weights, .. folded], values: values).WithoutUnreadWeights();
    }

    private static bool IsRandom(string target) =>
        target.Contains("rand", StringComparison.Ordinal) || target.Contains("dropout", StringComparison.Ordinal)
        || target.Contains("bernoulli", StringComparison.Ordinal) || target.Contains("normal", StringComparison.Ordinal);
}
