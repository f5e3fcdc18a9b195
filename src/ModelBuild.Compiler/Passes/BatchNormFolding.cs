using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Folds an inference BatchNorm into the convolution before it: <c>w' = w * g/sqrt(v+eps)</c> per output channel
/// and <c>b' = (b - m) * g/sqrt(v+eps) + beta</c>. Matches the training IR (<c>aten.conv2d</c>/<c>aten.convolution</c>
/// then <c>aten.batch_norm</c> with training=False) and the core IR (<c>aten.convolution</c> then
/// <c>aten._native_batch_norm_legit_no_training</c>, whose other outputs must be unused).
/// </summary>
public static class BatchNormFolding
{
    private static readonly HashSet<string> Convolutions = new(StringComparer.Ordinal)
    {
        "torch.ops.aten.conv1d.default", "torch.ops.aten.conv2d.default", "torch.ops.aten.conv3d.default", "torch.ops.aten.convolution.default",
    };

    private const string TrainingBatchNorm = "torch.ops.aten.batch_norm.default";
    private const string CoreBatchNorm = "torch.ops.aten._native_batch_norm_legit_no_training.default";

    public static ModelGraph Run(ModelGraph graph)
    {
        var weights = graph.Weights.ToDictionary(w => w.ValueName, StringComparer.Ordinal);
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in graph.Nodes.SelectMany(n => n.Reads()).Concat(graph.Outputs.Select(o => o.Name)))
        {
            readers[name] = readers.GetValueOrDefault(name) + 1;
        }
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var name in graph.Nodes[i].Writes())
            {
                producers[name] = i;
            }
        }

        var nodes = graph.Nodes.ToList();
        var newWeights = new List<Weight>();
        var removed = new HashSet<int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var bn = nodes[i];
            if (!IsInferenceBatchNorm(bn, readers)
                || Arg(bn, "input") is not TensorArg input
                || !producers.TryGetValue(input.Name, out var ci)
                || !Convolutions.Contains(nodes[ci].Target)
                || readers.GetValueOrDefault(input.Name) != 1
                || Arg(nodes[ci], "transposed") is BoolArg { Value: true }
                || !TryWeight(nodes[ci], "weight", weights, out var convWeight)
                || !TryOptionalWeight(nodes[ci], "bias", weights, out var convBias)
                || !TryOptionalWeight(bn, "weight", weights, out var gamma)
                || !TryOptionalWeight(bn, "bias", weights, out var beta)
                || !TryWeight(bn, "running_mean", weights, out var mean)
                || !TryWeight(bn, "running_var", weights, out var variance)
                || Arg(bn, "eps") is not FloatArg eps)
            {
                continue;
            }
            var output = ((TensorArg)bn.Outputs[0]).Name;
            var (w, b) = Fold(convWeight!, convBias, gamma, beta, mean!, variance!, eps.Value, output);
            newWeights.Add(w);
            newWeights.Add(b);
            nodes[ci] = WithWeightAndBias(nodes[ci], w.ValueName, b.ValueName) with { Outputs = [new TensorArg(output)] };
            removed.Add(i);
        }
        if (removed.Count == 0)
        {
            return graph;
        }
        var values = graph.Values.ToDictionary();
        foreach (var w in newWeights)
        {
            values[w.ValueName] = w.Meta;
        }
        return graph.With(
            nodes: [.. nodes.Where((_, i) => !removed.Contains(i))],
            weights: [.. graph.Weights, .. newWeights],
            values: values).WithoutUnreadWeights();
    }

    private static bool IsInferenceBatchNorm(GraphNode node, Dictionary<string, int> readers) => node.Target switch
    {
        TrainingBatchNorm => Arg(node, "training") is BoolArg { Value: false },
        CoreBatchNorm => node.Outputs.Skip(1).SelectMany(GraphValueNames.Read).All(n => !readers.ContainsKey(n)),
        _ => false,
    };

    private static (Weight Weight, Weight Bias) Fold(Weight convWeight, Weight? convBias, Weight? gamma, Weight? beta, Weight mean, Weight variance, double eps, string output)
    {
        using var scope = NewDisposeScope();
        var w = convWeight.ToTensor();
        var dtype = w.dtype;
        w = w.to(ScalarType.Float64);
        var m = mean.ToTensor().to(ScalarType.Float64);
        var scale = (variance.ToTensor().to(ScalarType.Float64) + eps).rsqrt();
        if (gamma is not null)
        {
            scale = scale * gamma.ToTensor().to(ScalarType.Float64);
        }
        var b = convBias is null ? zeros_like(m) : convBias.ToTensor().to(ScalarType.Float64);
        var shape = new long[w.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var folded = (w * scale.view(shape)).to(dtype);
        var bias = (b - m) * scale;
        if (beta is not null)
        {
            bias = bias + beta.ToTensor().to(ScalarType.Float64);
        }
        return (folded.ToWeight($"{output}_folded_weight"), bias.to(dtype).ToWeight($"{output}_folded_bias"));
    }

    private static GraphNode WithWeightAndBias(GraphNode conv, string weight, string bias)
    {
        var inputs = conv.Inputs.Select(a => a.Name switch
        {
            "weight" => a with { Value = new TensorArg(weight) },
            "bias" => a with { Value = new TensorArg(bias) },
            _ => a,
        }).ToList();
        if (!inputs.Any(a => a.Name == "bias"))
        {
            inputs.Insert(inputs.FindIndex(a => a.Name == "weight") + 1, new NamedArgument("bias", new TensorArg(bias)));
        }
        return conv with { Inputs = inputs };
    }

    private static Argument? Arg(GraphNode node, string name) => node.Inputs.FirstOrDefault(a => a.Name == name)?.Value;

    private static bool TryWeight(GraphNode node, string name, Dictionary<string, Weight> weights, out Weight? weight)
    {
        weight = Arg(node, name) is TensorArg t ? weights.GetValueOrDefault(t.Name) : null;
        return weight is not null;
    }

    /// <summary>True when the argument is absent, None, or a weight.</summary>
    private static bool TryOptionalWeight(GraphNode node, string name, Dictionary<string, Weight> weights, out Weight? weight)
    {
        weight = null;
        return Arg(node, name) switch
        {
            null or NoneArg => true,
            TensorArg t => (weight = weights.GetValueOrDefault(t.Name)) is not null,
            _ => false,
        };
    }
}
