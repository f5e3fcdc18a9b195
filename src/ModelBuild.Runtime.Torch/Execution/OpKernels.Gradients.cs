using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// The backward ops of the core ATen opset (<c>convolution_backward</c>, <c>native_layer_norm_backward</c>...), which
/// exported training steps hold: closed forms where they are short, libtorch's autograd where they are not.
/// </summary>
public static partial class OpKernels
{
    private static void AddGradients(KernelTable t)
    {
        t.Multi("aten.convolution_backward.default", ConvolutionBackward);
        t.Multi("aten.native_layer_norm_backward.default", LayerNormBackward);
        t.Multi("aten.native_group_norm_backward.default", GroupNormBackward);
        t.Op("aten.embedding_dense_backward.default", a =>
        {
            var grad = a.Tensor("grad_output");
            var indices = a.Tensor("indices").reshape(-1);
            var rows = grad.reshape(-1, grad.size(-1));
            var padding = a.Long("padding_idx", -1);
            if (padding >= 0)
            {
                rows = rows.masked_fill(indices.eq(padding).unsqueeze(1), 0);
            }

            if (a.Bool("scale_grad_by_freq", false))
            {
                var counts = bincount(indices, null, a.Long("num_weights"));
                rows = rows.div(counts.index_select(0, indices).unsqueeze(1).to(rows.dtype));
            }

            return zeros([a.Long("num_weights"), grad.size(-1)], grad.dtype, grad.device).index_add(0, indices, rows, 1);
        });
    }

    /// <summary>
    /// Gradients of <paramref name="forward"/> at <paramref name="inputs"/> for <paramref name="gradOutput"/>, by libtorch's
    /// autograd on copies of the inputs (the executor's inference mode, which records no graph, is lifted meanwhile).
    /// </summary>
    private static Tensor[] Gradients(Tensor[] inputs, Func<Tensor[], Tensor> forward, Tensor gradOutput)
    {
        using var recording = inference_mode(false);
        using var grad = enable_grad();
        var leaves = inputs.Select(x => x.clone().requires_grad_()).ToArray();
        var output = forward(leaves);
        return [.. autograd.grad([output], leaves, [gradOutput.clone()], allow_unused: true).Select(g => g.detach())];
    }

    /// <summary>
    /// Gradients of a convolution: the input's by the convolution's transpose (of a transposed convolution, a plain
    /// one), the weight's by autograd, the bias's summed over all dims but the channels.
    /// </summary>
    private static object?[] ConvolutionBackward(NodeArguments a)
    {
        var gradOutput = a.Tensor("grad_output");
        var input = a.Tensor("input");
        var weight = a.Tensor("weight");
        var (rank, stride, padding, dilation, outputPadding, groups) = ConvolutionWindow.Of(a, weight);
        Tensor gradInput;
        Tensor gradWeight;
        if (a.Bool("transposed", false))
        {
            gradInput = Convolution(gradOutput, weight, null, stride, padding, dilation, groups);
            gradWeight = Gradients([weight], w => TransposedConvolution(input, w[0], null, stride, padding, outputPadding, dilation, groups), gradOutput)[0];
        }
        else
        {
            // The rows of the input no output window reached come back as output padding.
            var spatial = (int)input.dim() - rank;
            var unreached = Enumerable.Range(0, rank).Select(d => input.size(spatial + d)
                - (((gradOutput.size(spatial + d) - 1) * stride[d]) - (2 * padding[d]) + (dilation[d] * (weight.size(2 + d) - 1)) + 1)).ToArray();
            gradInput = TransposedConvolution(gradOutput, weight, null, stride, padding, unreached, dilation, groups);
            gradWeight = Gradients([weight], w => Convolution(input, w[0], null, stride, padding, dilation, groups), gradOutput)[0];
        }

        var batchAndSpatial = Enumerable.Range(0, (int)gradOutput.dim()).Where(d => d != gradOutput.dim() - rank - 1).Select(d => (long)d).ToArray();
        return [gradInput, gradWeight, gradOutput.sum(batchAndSpatial)];
    }

    /// <summary>
    /// With x̂ = (x - mean) * rstd and g = grad * weight over the normalized dims: grad_input = rstd * (g - mean(g) -
    /// x̂ * mean(g * x̂)); the weight and bias gradients sum grad * x̂ and grad over the leading dims.
    /// </summary>
    private static object?[] LayerNormBackward(NodeArguments a)
    {
        var grad = a.Tensor("grad_out");
        var input = a.Tensor("input");
        var normalized = a.Longs("normalized_shape").Length;
        var weight = a.OptionalTensor("weight");
        var rstd = a.Tensor("rstd");
        var normalizedDims = Enumerable.Range((int)input.dim() - normalized, normalized).Select(d => (long)d).ToArray();
        var leadingDims = Enumerable.Range(0, (int)input.dim() - normalized).Select(d => (long)d).ToArray();
        var xHat = input.sub(a.Tensor("mean")).mul(rstd);
        var g = weight is null ? grad : grad.mul(weight);
        var gradInput = rstd.mul(g.sub(g.mean(normalizedDims, keepdim: true)).sub(xHat.mul(g.mul(xHat).mean(normalizedDims, keepdim: true))));
        return [gradInput, weight is null ? null : grad.mul(xHat).sum(leadingDims), a.Has("bias") ? grad.sum(leadingDims) : null];
    }

    /// <summary>The layer-norm gradient per group of C / group channels (mean and rstd are [N, group]).</summary>
    private static object?[] GroupNormBackward(NodeArguments a)
    {
        var grad = a.Tensor("grad_out");
        var input = a.Tensor("input");
        var (n, c, groups) = (a.Long("N"), a.Long("C"), a.Long("group"));
        var weight = a.OptionalTensor("weight");
        var perChannel = new long[] { n, c, -1 };
        var grouped = new long[] { n, groups, -1 };
        var rstd = a.Tensor("rstd").unsqueeze(-1);
        var xHat = input.reshape(grouped).sub(a.Tensor("mean").unsqueeze(-1)).mul(rstd);
        var g = (weight is null ? grad.reshape(perChannel) : grad.reshape(perChannel).mul(weight.reshape(1, c, 1))).reshape(grouped);
        var gradInput = rstd.mul(g.sub(g.mean([-1], keepdim: true)).sub(xHat.mul(g.mul(xHat).mean([-1], keepdim: true))));
        var channelGrad = grad.reshape(perChannel);
        return
        [
            gradInput.reshape(input.shape),
            weight is null ? null : channelGrad.mul(xHat.reshape(perChannel)).sum([0, 2]),
            channelGrad.sum([0, 2]),
        ];
    }
}
