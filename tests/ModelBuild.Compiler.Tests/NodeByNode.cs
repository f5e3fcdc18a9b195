using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>Runs a hand-built graph node by node with the runtime's kernels, to compare a pass's output with its input.</summary>
internal static class NodeByNode
{
    /// <summary>The graph's outputs; call inside a dispose scope.</summary>
    public static Tensor[] Run(ModelGraph graph, params Tensor[] inputs)
    {
        using var noGrad = no_grad();
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Length; i++)
        {
            values[graph.Inputs[i].Name] = inputs[i];
        }
        foreach (var w in graph.Weights)
        {
            values[w.ValueName] = ModelBuild.Runtime.Torch.TorchTensorConversion.ToTensor(w.Meta.DType, [.. w.Meta.Sizes.Select(d => d.Value!.Value)], w.Read().Span);
        }
        foreach (var node in graph.Nodes)
        {
            var results = OpKernels.Invoke(node, n => values[n]);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is TensorArg t)
                {
                    values[t.Name] = results[i]!;
                }
            }
        }
        return [.. graph.Outputs.Select(o => (Tensor)values[o.Name])];
    }
}
