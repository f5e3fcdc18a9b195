using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Network layers: convolution, pooling, normalization and attention.</summary>
public static partial class OpKernels
{
    private static void AddNeuralNet(KernelTable t)
    {
        t.Op("aten.conv1d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv2d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv3d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv1d.padding", ConvPadded, n => n.OneOf("padding", "valid", "same"));
        t.Op("aten.conv2d.padding", ConvPadded, n => n.OneOf("padding", "valid", "same"));
        t.Op("aten.conv3d.padding", ConvPadded, n => n.OneOf("padding", "valid", "same"));
        t.Op("aten.conv_transpose1d.default", a => Conv(a, transposed: true));
        t.Op("aten.conv_transpose2d.input", a => Conv(a, transposed: true));
        t.Op("aten.conv_transpose3d.input", a => Conv(a, transposed: true));
        t.Op("aten.convolution.default", a => Conv(a, a.Bool("transposed", false)));

        t.Op("aten.batch_norm.default", a => BatchNorm(a, a.Bool("training", false)));
        t.Multi("aten._native_batch_norm_legit_no_training.default", a => [BatchNorm(a, training: false), Empty(a), Empty(a)]);
        t.Multi("aten._native_batch_norm_legit.default", a => BatchNormWithStatistics(a, a.Bool("training", false)));
        t.Multi("aten._native_batch_norm_legit.no_stats", a => BatchNormWithStatistics(a, training: true));
        t.Multi("aten.native_batch_norm.default", a => BatchNormWithStatistics(a, a.Bool("training", false)));
        // The running statistics these would update are read-only weights here (see BatchNorm); the reserve is empty.
        t.Multi("aten._batch_norm_with_update.default", a => [.. BatchNormWithStatistics(a, training: true), Reserve(a)]);
        t.Multi("aten._batch_norm_no_update.default", a => [BatchNorm(a, training: false), Empty(a), Empty(a), Reserve(a)]);
        t.Op("aten.rms_norm.default", RmsNorm);
        t.Op("aten._weight_norm.default", a => a.Tensor("v").mul(a.Tensor("g").div(NormExceptDim(a.Tensor("v"), a.Long("dim", 0)))));
        t.Op("aten.layer_norm.default", a => F.layer_norm(
            a.Tensor("input"), a.Longs("normalized_shape"), a.OptionalTensor("weight"), a.OptionalTensor("bias"), a.Double("eps", 1e-5)));
        t.Multi("aten.native_layer_norm.default", NativeLayerNorm);
        t.Op("aten.group_norm.default", a => F.group_norm(
            a.Tensor("input"), a.Long("num_groups"), a.OptionalTensor("weight"), a.OptionalTensor("bias"), a.Double("eps", 1e-5)));
        t.Multi("aten.native_group_norm.default", NativeGroupNorm);
        t.Op("aten.instance_norm.default", a => F.instance_norm(
            a.Tensor("input"), a.OptionalTensor("running_mean"), a.OptionalTensor("running_var"), a.OptionalTensor("weight"),
            a.OptionalTensor("bias"), a.Bool("use_input_stats", true), a.Double("momentum", 0.1), a.Double("eps", 1e-5)));

        t.Op("aten.max_pool2d.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 2);
            return F.max_pool2d(a.Self, kernel, stride, padding, dilation, a.Bool("ceil_mode", false));
        });
        t.Multi("aten.max_pool2d_with_indices.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 2);
            var (values, indices) = F.max_pool2d_with_indices(a.Self, kernel, stride, padding, dilation, a.Bool("ceil_mode", false));
            return [values, indices];
        });
        t.Op("aten.max_pool1d.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 1);
            return F.max_pool1d(a.Self, kernel[0], stride[0], padding[0], dilation[0], a.Bool("ceil_mode", false));
        });
        t.Multi("aten.max_pool1d_with_indices.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 1);
            var (values, indices) = F.max_pool1d_with_indices(a.Self, kernel[0], stride[0], padding[0], dilation[0], a.Bool("ceil_mode", false));
            return [values, indices];
        });
        t.Op("aten.avg_pool2d.default", a =>
        {
            var (kernel, stride, padding, _) = PoolWindow(a, 2);
            return F.avg_pool2d(a.Self, kernel, stride, padding, a.Bool("ceil_mode", false), a.Bool("count_include_pad", true), a.OptionalLong("divisor_override"));
        });
        t.Op("aten.avg_pool1d.default", a =>
        {
            var (kernel, stride, padding, _) = PoolWindow(a, 1);
            return F.avg_pool1d(a.Self, kernel[0], stride[0], padding[0], a.Bool("ceil_mode", false), a.Bool("count_include_pad", true));
        });
        t.Op("aten.adaptive_avg_pool2d.default", a => F.adaptive_avg_pool2d(a.Self, Expand(a.Longs("output_size"), 2)));
        t.Op("aten._adaptive_avg_pool2d.default", a => F.adaptive_avg_pool2d(a.Self, Expand(a.Longs("output_size"), 2)));
        t.Op("aten.adaptive_avg_pool1d.default", a => F.adaptive_avg_pool1d(a.Self, a.Longs("output_size")[0]));
        t.Op("aten.upsample_nearest2d.vec", a => F.upsample_nearest2d(
            a.Tensor("input"), a.OptionalLongs("output_size"), a.OptionalDoubles("scale_factors")));
        t.Op("aten.pixel_shuffle.default", a => F.pixel_shuffle(a.Self, a.Long("upscale_factor")));
        t.Op("aten.scaled_dot_product_attention.default", Attention);
    }

    /// <summary>A list argument of length 1 stands for the same value in every spatial dim.</summary>
    private static long[] Expand(long[] values, int rank) =>
        values.Length == 1 && rank > 1 ? [.. Enumerable.Repeat(values[0], rank)] : values;

    private static Tensor Conv(NodeArguments a, bool transposed)
    {
        var input = a.Tensor("input");
        var weight = a.Tensor("weight");
        var bias = a.OptionalTensor("bias");
        var w = ConvolutionWindow.Of(a, weight);
        if (w.Rank is < 1 or > 3)
        {
            throw a.Unsupported("weight", $"a convolution weight of rank {w.Rank + 2}");
        }

        return transposed
            ? TransposedConvolution(input, weight, bias, w.Stride, w.Padding, w.OutputPadding, w.Dilation, w.Groups)
            : Convolution(input, weight, bias, w.Stride, w.Padding, w.Dilation, w.Groups);
    }

    /// <summary>A convolution's (or its gradient's) window arguments, each expanded to the weight's spatial rank.</summary>
    private sealed record ConvolutionWindow(int Rank, long[] Stride, long[] Padding, long[] Dilation, long[] OutputPadding, long Groups)
    {
        public static ConvolutionWindow Of(NodeArguments a, Tensor weight)
        {
            var rank = (int)weight.dim() - 2;
            return new(rank, Expand(a.Longs("stride", 1), rank), Expand(a.Longs("padding", 0), rank), Expand(a.Longs("dilation", 1), rank),
                Expand(a.Longs("output_padding", 0), rank), a.Long("groups", 1));
        }
    }

    private static Tensor Convolution(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups) =>
        (weight.dim() - 2) switch
        {
            1 => F.conv1d(input, weight, bias, stride[0], padding[0], dilation[0], groups),
            2 => F.conv2d(input, weight, bias, stride, padding, dilation, groups),
            _ => F.conv3d(input, weight, bias, stride, padding, dilation, groups),
        };

    /// <summary>
    /// A transposed convolution as the plain convolution it is: the input spread out by the stride (zeros between
    /// elements), padded by dilation * (kernel - 1) - padding on each side (plus output_padding at the end), and
    /// convolved at stride 1 with the weight's channel dims swapped per group and its window flipped. libtorch 0.107's
    /// own transposed 2-d and 3-d convolutions at stride 1 return different values from run to run on CPU.
    /// </summary>
    private static Tensor TransposedConvolution(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] outputPadding,
        long[] dilation, long groups)
    {
        var rank = (int)weight.dim() - 2;
        var batched = input.dim() == rank + 2;
        var x = batched ? input : input.unsqueeze(0);
        if (stride.Any(s => s > 1))
        {
            var spread = zeros([x.size(0), x.size(1), .. Enumerable.Range(0, rank).Select(d => ((x.size(2 + d) - 1) * stride[d]) + 1)], x.dtype, x.device);
            spread.index([TensorIndex.Colon, TensorIndex.Colon, .. stride.Select(s => TensorIndex.Slice(null, null, s))]).copy_(x);
            x = spread;
        }

        // F.pad lists (before, after) pairs from the last dim backwards; negative amounts crop.
        var pads = new long[rank * 2];
        for (var d = 0; d < rank; d++)
        {
            var edge = (dilation[d] * (weight.size(2 + d) - 1)) - padding[d];
            pads[(rank - 1 - d) * 2] = edge;
            pads[((rank - 1 - d) * 2) + 1] = edge + outputPadding[d];
        }

        x = F.pad(x, pads);
        var (inChannels, outPerGroup) = (weight.size(0), weight.size(1));
        var kernel = weight.shape[2..];
        var flipped = weight.reshape([groups, inChannels / groups, outPerGroup, .. kernel]).transpose(1, 2)
            .reshape([groups * outPerGroup, inChannels / groups, .. kernel])
            .flip([.. Enumerable.Range(2, rank).Select(d => (long)d)]);
        var output = Convolution(x, flipped, bias, [.. Enumerable.Repeat(1L, rank)], new long[rank], dilation, groups);
        return batched ? output : output.squeeze(0);
    }

    /// <summary>conv1d/conv2d with padding "valid" or "same" (PyTorch pads the extra odd element on the right).</summary>
    private static Tensor ConvPadded(NodeArguments a)
    {
        var input = a.Tensor("input");
        var weight = a.Tensor("weight");
        var rank = (int)weight.dim() - 2;
        var stride = Expand(a.Longs("stride", 1), rank);
        var dilation = Expand(a.Longs("dilation", 1), rank);
        var groups = a.Long("groups", 1);
        var mode = a.OptionalString("padding") ?? "valid";
        var padding = new long[rank];
        using var padded = mode switch
        {
            "valid" => input.alias(),
            "same" => PadSame(input, weight, dilation, padding),
            _ => throw a.Unsupported("padding", $"'{mode}'"),
        };
        return rank switch
        {
            1 => F.conv1d(padded, weight, a.OptionalTensor("bias"), stride[0], padding[0], dilation[0], groups),
            2 => F.conv2d(padded, weight, a.OptionalTensor("bias"), stride, padding, dilation, groups),
            _ => F.conv3d(padded, weight, a.OptionalTensor("bias"), stride, padding, dilation, groups),
        };
    }

    /// <summary>Symmetric padding goes into <paramref name="padding"/>; an odd remainder is padded on the right here.</summary>
    private static Tensor PadSame(Tensor input, Tensor weight, long[] dilation, long[] padding)
    {
        var rank = padding.Length;
        var extra = new long[rank * 2];
        var needsExtra = false;
        for (var d = 0; d < rank; d++)
        {
            var total = dilation[d] * (weight.size(d + 2) - 1);
            padding[d] = total / 2;
            // F.pad lists pairs from the last dim backwards: (left, right) of dim rank-1 first.
            extra[((rank - 1 - d) * 2) + 1] = total % 2;
            needsExtra |= total % 2 != 0;
        }

        return needsExtra ? F.pad(input, extra) : input.alias();
    }

    private static Tensor BatchNorm(NodeArguments a, bool training)
    {
        var input = a.Tensor("input");
        var eps = a.Double("eps", 1e-5);
        // Batch statistics never update the running buffers: weights are shared, read-only state.
        return training
            ? F.batch_norm(input, null, null, a.OptionalTensor("weight"), a.OptionalTensor("bias"), true, 0, eps)
            : F.batch_norm(input, a.OptionalTensor("running_mean"), a.OptionalTensor("running_var"), a.OptionalTensor("weight"), a.OptionalTensor("bias"), false, 0, eps);
    }

    /// <summary>
    /// Batch norm with ATen's saved statistics: in training the batch mean and 1 / sqrt(biased variance + eps) per
    /// channel, in inference empty tensors.
    /// </summary>
    private static object?[] BatchNormWithStatistics(NodeArguments a, bool training)
    {
        var output = BatchNorm(a, training);
        if (!training)
        {
            return [output, Empty(a), Empty(a)];
        }

        var input = a.Tensor("input");
        var dims = Enumerable.Range(0, (int)input.dim()).Where(d => d != 1).Select(d => (long)d).ToArray();
        var mean = input.mean(dims);
        var invstd = input.var(dims, unbiased: false).add(a.Double("eps", 1e-5)).rsqrt();
        return [output, mean, invstd];
    }

    /// <summary>The 2-norm over every dim but <paramref name="dim"/>, kept as size-1 dims (-1: over all dims), as weight_norm uses it.</summary>
    private static Tensor NormExceptDim(Tensor v, long dim)
    {
        var rank = (int)v.dim();
        var dims = dim == -1 ? Enumerable.Range(0, rank).Select(d => (long)d).ToArray()
            : Enumerable.Range(0, rank).Where(d => d != (dim < 0 ? dim + rank : dim)).Select(d => (long)d).ToArray();
        return linalg.vector_norm(v, 2, dims, keepdim: true);
    }

    /// <summary>The reserve buffer of _batch_norm_with_update, which the CPU kernel leaves empty.</summary>
    private static Tensor Reserve(NodeArguments a) => empty([0], ScalarType.Byte, a.Tensor("input").device);

    /// <summary>x * rsqrt(mean(x^2) + eps) * weight over the normalized dims; eps defaults to the dtype's machine epsilon.</summary>
    private static Tensor RmsNorm(NodeArguments a)
    {
        var input = a.Tensor("input");
        var count = a.Longs("normalized_shape").Length;
        var dims = Enumerable.Range((int)input.dim() - count, count).Select(d => (long)d).ToArray();
        var eps = a.OptionalDouble("eps") ?? (input.dtype == ScalarType.Float64 ? Math.BitIncrement(1.0) - 1 : MathF.BitIncrement(1f) - 1);
        var normalized = input.mul(input.square().mean(dims, keepdim: true).add(eps).rsqrt());
        return a.OptionalTensor("weight") is { } weight ? normalized.mul(weight) : normalized;
    }

    /// <summary>The saved-statistics outputs of inference batch norm, which ATen returns empty.</summary>
    private static Tensor Empty(NodeArguments a)
    {
        var input = a.Tensor("input");
        return empty([0], input.dtype, input.device);
    }

    private static object?[] NativeLayerNorm(NodeArguments a)
    {
        var input = a.Tensor("input");
        var shape = a.Longs("normalized_shape");
        var eps = a.Double("eps", 1e-5);
        var output = F.layer_norm(input, shape, a.OptionalTensor("weight"), a.OptionalTensor("bias"), eps);
        if (!a.Wants(1) && !a.Wants(2))
        {
            return [output, null, null];
        }

        var rank = input.dim();
        var dims = Enumerable.Range((int)(rank - shape.Length), shape.Length).Select(d => (long)d).ToArray();
        var mean = input.mean(dims, keepdim: true);
        using var variance = input.var(dims, unbiased: false, keepdim: true);
        using var shifted = variance.add(eps);
        return [output, mean, shifted.rsqrt()];
    }

    private static object?[] NativeGroupNorm(NodeArguments a)
    {
        var input = a.Tensor("input");
        var n = a.Long("N");
        var groups = a.Long("group");
        var eps = a.Double("eps", 1e-5);
        var output = F.group_norm(input, groups, a.OptionalTensor("weight"), a.OptionalTensor("bias"), eps);
        if (!a.Wants(1) && !a.Wants(2))
        {
            return [output, null, null];
        }

        using var grouped = input.reshape(n, groups, -1);
        var mean = grouped.mean([2]);
        using var variance = grouped.var(2, unbiased: false);
        using var shifted = variance.add(eps);
        return [output, mean, shifted.rsqrt()];
    }

    private static (long[] Kernel, long[] Stride, long[] Padding, long[] Dilation) PoolWindow(NodeArguments a, int rank)
    {
        var kernel = Expand(a.Longs("kernel_size"), rank);
        var stride = a.Longs("stride", []) is { Length: > 0 } s ? Expand(s, rank) : kernel;
        return (kernel, stride, Expand(a.Longs("padding", 0), rank), Expand(a.Longs("dilation", 1), rank));
    }

    /// <summary>
    /// TorchSharp's attention takes no <c>scale</c>: the query is pre-multiplied so that its built-in 1/sqrt(E) becomes
    /// <c>scale</c>. With <c>enable_gqa</c>, key and value heads are repeated to the query's head count.
    /// </summary>
    private static Tensor Attention(NodeArguments a)
    {
        var query = a.Tensor("query");
        var key = a.Tensor("key");
        var value = a.Tensor("value");
        var mask = a.OptionalTensor("attn_mask");
        var dropout = a.Double("dropout_p", 0);
        var causal = a.Bool("is_causal", false);
        using var scope = NewDisposeScope();
        if (a.OptionalDouble("scale") is { } scale)
        {
            query = query.mul(scale * Math.Sqrt(query.size(-1)));
        }

        if (a.Bool("enable_gqa", false) && key.size(-3) != query.size(-3))
        {
            var repeats = query.size(-3) / key.size(-3);
            key = key.repeat_interleave(repeats, -3);
            value = value.repeat_interleave(repeats, -3);
        }

        return scope.MoveToOuter(F.scaled_dot_product_attention(query, key, value, mask, dropout, causal));
    }
}
