using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Onnx.Proto;

namespace ModelBuild.Lowering.Onnx;

/// <summary>Network layers: convolution, pooling, normalization, resampling and attention.</summary>
internal static partial class LoweringRules
{
    private static void AddNeuralNet(RuleTable t)
    {
        t.Op("aten.conv1d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv2d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv3d.default", a => Conv(a, transposed: false));
        t.Op("aten.conv1d.padding", a => Conv(a, transposed: false));
        t.Op("aten.conv2d.padding", a => Conv(a, transposed: false));
        t.Op("aten.conv_transpose1d.default", a => Conv(a, transposed: true));
        t.Op("aten.conv_transpose2d.input", a => Conv(a, transposed: true));
        t.Op("aten.convolution.default", a => Conv(a, a.Bool("transposed", false)));

        t.Multi("aten.batch_norm.default", a => BatchNorm(a, "training"));
        t.Multi("aten._native_batch_norm_legit_no_training.default", a => BatchNorm(a, null));
        t.Multi("aten._native_batch_norm_legit.default", a => BatchNorm(a, "training"));
        t.Multi("aten.native_batch_norm.default", a => BatchNorm(a, "training"));
        t.Op("aten.layer_norm.default", a => (string)LayerNorm(a)[0]!);
        t.Multi("aten.native_layer_norm.default", LayerNorm);
        t.Op("aten.group_norm.default", a => GroupNorm(a, a.Long("num_groups")));
        t.Multi("aten.native_group_norm.default", a => a.IsRead(1) || a.IsRead(2)
            ? throw new NotLowerableException("the group statistics outputs have no ONNX rule")
            : [GroupNorm(a, a.Long("group")), null, null]);
        t.Op("aten.instance_norm.default", InstanceNorm);
        t.Op("aten._weight_norm.default", a =>
        {
            RequireFloat(a);
            var v = a.Tensor("v");
            var rank = a.Meta("v").Rank;
            var dim = Axis(a.Long("dim", 0), rank);
            var others = Enumerable.Range(0, rank).Select(d => (long)d).Where(d => d != dim).ToArray();
            var norm = a.B.Op("ReduceL2", [v, a.B.Ints(others)], Attr.Int("keepdims", 1));
            return a.B.Op("Mul", [v, a.B.Op("Div", [a.Tensor("g"), norm])]);
        });

        t.Op("aten.max_pool1d.default", a => MaxPool(a, 1));
        t.Op("aten.max_pool2d.default", a => MaxPool(a, 2));
        t.Op("aten.max_pool3d.default", a => MaxPool(a, 3));
        t.Multi("aten.max_pool1d_with_indices.default", a => PoolWithoutIndices(a, 1));
        t.Multi("aten.max_pool2d_with_indices.default", a => PoolWithoutIndices(a, 2));
        t.Op("aten.avg_pool1d.default", a => AvgPool(a, 1));
        t.Op("aten.avg_pool2d.default", a => AvgPool(a, 2));
        t.Op("aten.avg_pool3d.default", a => AvgPool(a, 3));
        t.Op("aten.adaptive_avg_pool1d.default", a => AdaptiveAvgPool(a, 1));
        t.Op("aten.adaptive_avg_pool2d.default", a => AdaptiveAvgPool(a, 2));
        t.Op("aten._adaptive_avg_pool2d.default", a => AdaptiveAvgPool(a, 2));
        t.Op("aten.upsample_nearest2d.vec", UpsampleNearest);
        t.Op("aten.pixel_shuffle.default", a =>
        {
            if (a.SelfMeta.Rank != 4)
            {
                throw new NotLowerableException("pixel_shuffle of a tensor of rank other than 4");
            }
            return a.B.Op("DepthToSpace", [a.Self], Attr.Int("blocksize", a.Long("upscale_factor")), Attr.String("mode", "CRD"));
        });
        t.Op("aten.im2col.default", Im2Col);
        t.Op("aten.scaled_dot_product_attention.default", Attention);
    }

    /// <summary>A list argument of length 1 stands for the same value in every spatial dim.</summary>
    private static long[] Spatial(long[] values, int rank) => values.Length == 1 && rank > 1 ? [.. Enumerable.Repeat(values[0], rank)] : values;

    /// <summary>
    /// Convolution and transposed convolution over 1-3 spatial dims; padding "same" pads the odd element at the end, as
    /// PyTorch does. An unbatched input gets a batch dim of 1 around the operator.
    /// </summary>
    private static string Conv(LoweringNode a, bool transposed)
    {
        RequireFloat(a);
        var weight = a.Meta("weight");
        var rank = weight.Rank - 2;
        var input = a.Tensor("input");
        var unbatched = a.Meta("input").Rank == rank + 1;
        var stride = Spatial(a.Longs("stride", 1), rank);
        var dilation = Spatial(a.Longs("dilation", 1), rank);
        long[] begin, end;
        if (a.IsString("padding"))
        {
            if (a.OptionalString("padding") == "same")
            {
                var kernel = a.StaticDims(weight, Enumerable.Range(2, rank).Select(d => (long)d), "the weight's");
                var total = kernel.Select((k, d) => dilation[d] * (k - 1)).ToArray();
                begin = [.. total.Select(x => x / 2)];
                end = [.. total.Select((x, d) => x - begin[d])];
            }
            else if (a.OptionalString("padding") == "valid")
            {
                begin = end = new long[rank];
            }
            else
            {
                throw a.Unsupported("padding", a.OptionalString("padding")!);
            }
        }
        else
        {
            begin = end = Spatial(a.Longs("padding", 0), rank);
        }
        var x = unbatched ? a.B.Op("Unsqueeze", [input, a.B.Ints(0)]) : input;
        var inputs = new List<string> { x, a.Tensor("weight") };
        if (a.OptionalTensor("bias") is { } bias)
        {
            inputs.Add(bias);
        }
        var attributes = new List<AttributeProto>
        {
            Attr.Ints("strides", stride), Attr.Ints("dilations", dilation), Attr.Ints("pads", [.. begin, .. end]), Attr.Int("group", a.Long("groups", 1)),
        };
        if (transposed)
        {
            attributes.Add(Attr.Ints("output_padding", Spatial(a.Longs("output_padding", 0), rank)));
        }
        var y = a.B.Op(transposed ? "ConvTranspose" : "Conv", inputs, [.. attributes]);
        return unbatched ? a.B.Op("Squeeze", [y, a.B.Ints(0)]) : y;
    }

    /// <summary>Inference batch norm with the running statistics; the saved-statistics outputs are empty, as ATen returns them.</summary>
    private static object?[] BatchNorm(LoweringNode a, string? trainingArgument)
    {
        RequireFloat(a);
        if (trainingArgument is not null && a.Bool(trainingArgument, false))
        {
            throw new NotLowerableException("batch norm with batch statistics (training mode) has no ONNX rule");
        }
        var meta = a.Meta("input");
        var channels = a.StaticDims(meta, [1], "the input's channel")[0];
        var dtype = meta.DType;
        var scale = a.OptionalTensor("weight") ?? a.B.Constant(dtype, [channels], [.. Enumerable.Range(0, (int)channels).SelectMany(_ => OnnxTypes.Element(1.0, dtype))]);
        var shift = a.OptionalTensor("bias") ?? a.B.Constant(dtype, [channels], new byte[channels * dtype.ElementSize()]);
        var y = a.B.Op("BatchNormalization", [a.Tensor("input"), scale, shift, a.Tensor("running_mean"), a.Tensor("running_var")],
            Attr.Float("epsilon", a.Double("eps", 1e-5)));
        string? Empty(int i) => a.IsRead(i) ? a.B.Constant(dtype, [0], []) : null;
        return [y, Empty(1), Empty(2)];
    }

    /// <summary>LayerNormalization over the last dims; its optional outputs are the mean and the inverse standard deviation, as in native_layer_norm.</summary>
    private static object?[] LayerNorm(LoweringNode a)
    {
        RequireFloat(a);
        var meta = a.Meta("input");
        var normalized = a.Longs("normalized_shape");
        var dtype = meta.DType;
        var count = normalized.Aggregate(1L, (n, d) => n * d);
        var scale = a.OptionalTensor("weight") ?? a.B.Constant(dtype, normalized, [.. Enumerable.Range(0, (int)count).SelectMany(_ => OnnxTypes.Element(1.0, dtype))]);
        var inputs = new List<string> { a.Tensor("input"), scale };
        if (a.OptionalTensor("bias") is { } bias)
        {
            inputs.Add(bias);
        }
        var attributes = new[] { Attr.Int("axis", -normalized.Length), Attr.Float("epsilon", a.Double("eps", 1e-5)) };
        if (!a.IsRead(1) && !a.IsRead(2))
        {
            return [a.B.Op("LayerNormalization", inputs, attributes), null, null];
        }
        var outputs = a.B.Node("LayerNormalization", inputs, 3, attributes);
        return [outputs[0], outputs[1], outputs[2]];
    }

    /// <summary>Group norm as an instance norm over (N, groups, rest), then the per-channel affine transform.</summary>
    private static string GroupNorm(LoweringNode a, long groups)
    {
        RequireFloat(a);
        var meta = a.Meta("input");
        var dtype = meta.DType;
        var x = a.Tensor("input");
        var grouped = a.B.Op("Reshape", [x, a.B.Ints(0, groups, -1)]);
        var ones = a.B.Constant(dtype, [groups], [.. Enumerable.Range(0, (int)groups).SelectMany(_ => OnnxTypes.Element(1.0, dtype))]);
        var zeros = a.B.Constant(dtype, [groups], new byte[groups * dtype.ElementSize()]);
        var normalized = a.B.Op("InstanceNormalization", [grouped, ones, zeros], Attr.Float("epsilon", a.Double("eps", 1e-5)));
        var y = a.B.Op("Reshape", [normalized, a.B.Op("Shape", [x])]);
        return Affine(a, y, meta.Rank);
    }

    /// <summary>y * weight + bias with the per-channel weight and bias broadcast over the dims after the channel.</summary>
    private static string Affine(LoweringNode a, string y, int rank)
    {
        var perChannel = a.B.Ints([-1, .. Enumerable.Repeat(1L, rank - 2)]);
        if (a.OptionalTensor("weight") is { } weight)
        {
            y = a.B.Op("Mul", [y, a.B.Op("Reshape", [weight, perChannel])]);
        }
        if (a.OptionalTensor("bias") is { } bias)
        {
            y = a.B.Op("Add", [y, a.B.Op("Reshape", [bias, perChannel])]);
        }
        return y;
    }

    private static string InstanceNorm(LoweringNode a)
    {
        RequireFloat(a);
        if (!a.Bool("use_input_stats", true))
        {
            return (string)BatchNorm(a, null)[0]!;
        }
        var meta = a.Meta("input");
        var channels = a.StaticDims(meta, [1], "the input's channel")[0];
        var dtype = meta.DType;
        var ones = a.B.Constant(dtype, [channels], [.. Enumerable.Range(0, (int)channels).SelectMany(_ => OnnxTypes.Element(1.0, dtype))]);
        var zeros = a.B.Constant(dtype, [channels], new byte[channels * dtype.ElementSize()]);
        return a.B.Op("InstanceNormalization", [a.Tensor("input"), a.OptionalTensor("weight") ?? ones, a.OptionalTensor("bias") ?? zeros],
            Attr.Float("epsilon", a.Double("eps", 1e-5)));
    }

    /// <summary>The window of a pooling node: kernel, stride (the kernel when absent), padding, dilation.</summary>
    private static (long[] Kernel, long[] Stride, long[] Padding, long[] Dilation) Window(LoweringNode a, int rank)
    {
        var kernel = Spatial(a.Longs("kernel_size"), rank);
        var stride = a.Longs("stride", []) is { Length: > 0 } s ? Spatial(s, rank) : kernel;
        return (kernel, stride, Spatial(a.Longs("padding", 0), rank), Spatial(a.Longs("dilation", 1), rank));
    }

    /// <summary>Runs <paramref name="pool"/> on the input with a batch dim added when it has none.</summary>
    private static string Batched(LoweringNode a, int rank, Func<string, string> pool)
    {
        var unbatched = a.SelfMeta.Rank == rank + 1;
        var x = unbatched ? a.B.Op("Unsqueeze", [a.Self, a.B.Ints(0)]) : a.Self;
        var y = pool(x);
        return unbatched ? a.B.Op("Squeeze", [y, a.B.Ints(0)]) : y;
    }

    private static string MaxPool(LoweringNode a, int rank)
    {
        RequireFloat(a);
        var (kernel, stride, padding, dilation) = Window(a, rank);
        return Batched(a, rank, x => a.B.Op("MaxPool", [x], Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", stride),
            Attr.Ints("pads", [.. padding, .. padding]), Attr.Ints("dilations", dilation), Attr.Int("ceil_mode", a.Bool("ceil_mode", false) ? 1 : 0)));
    }

    /// <summary>max pooling whose indices nobody reads (ONNX's indices count over the whole tensor, PyTorch's per plane).</summary>
    private static object?[] PoolWithoutIndices(LoweringNode a, int rank) => a.IsRead(1)
        ? throw new NotLowerableException("max pooling indices are numbered differently in ONNX")
        : [MaxPool(a, rank), null];

    private static string AvgPool(LoweringNode a, int rank)
    {
        RequireFloat(a);
        if (a.Has("divisor_override"))
        {
            throw a.Unsupported("divisor_override", a.Long("divisor_override"));
        }
        var (kernel, stride, padding, _) = Window(a, rank);
        return Batched(a, rank, x => a.B.Op("AveragePool", [x], Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", stride),
            Attr.Ints("pads", [.. padding, .. padding]), Attr.Int("ceil_mode", a.Bool("ceil_mode", false) ? 1 : 0),
            Attr.Int("count_include_pad", a.Bool("count_include_pad", true) ? 1 : 0)));
    }

    /// <summary>
    /// Adaptive average pooling to 1 is a global average; to sizes that divide static input sizes, a plain one; else
    /// one pooled dim after the other (<see cref="AdaptiveAvgPoolDim"/>).
    /// </summary>
    private static string AdaptiveAvgPool(LoweringNode a, int rank)
    {
        RequireFloat(a);
        var output = Spatial(a.Longs("output_size"), rank);
        if (output.All(o => o == 1))
        {
            return Batched(a, rank, x => a.B.Op("GlobalAveragePool", [x]));
        }
        if (output.Any(o => o <= 0))
        {
            throw a.Unsupported("output_size", $"[{string.Join(", ", output)}]");
        }
        var meta = a.SelfMeta;
        var pooled = meta.Sizes.Skip(meta.Rank - rank).ToList();
        if (pooled.Zip(output).All(p => p.First.Value is { } size && size % p.Second == 0))
        {
            var kernel = pooled.Zip(output, (i, o) => i.Value!.Value / o).ToArray();
            return Batched(a, rank, x => a.B.Op("AveragePool", [x], Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", kernel)));
        }
        var y = a.Self;
        for (var d = 0; d < rank; d++)
        {
            y = AdaptiveAvgPoolDim(a, y, meta.Rank - rank + d, pooled[d], output[d]);
        }
        return y;
    }

    /// <summary>
    /// Adaptive average pooling of one dim of size <paramref name="size"/> to <paramref name="bins"/>: bin i is the mean of
    /// [floor(i*size/bins), ceil((i+1)*size/bins)), as PyTorch bins it (overlapping where the sizes do not divide); the
    /// bounds are constants for a static size and computed from the input's shape for a symbolic one.
    /// </summary>
    private static string AdaptiveAvgPoolDim(LoweringNode a, string x, int axis, Dim size, long bins)
    {
        var length = size.IsStatic ? null : a.B.Op("Shape", [x], Attr.Int("start", axis), Attr.Int("end", axis + 1));
        // floor((n*size + roundUp) / bins): int64 Div truncates, which floors the positive operands it gets here.
        string Bound(long n, long roundUp) => n == 0 ? a.B.Ints(0) : n == bins ? a.B.Ints(long.MaxValue)
            : size.Value is { } s ? a.B.Ints(((n * s) + roundUp) / bins)
            : a.B.Op("Div", [a.B.Op("Add", [a.B.Op("Mul", [length!, a.B.Ints(n)]), a.B.Ints(roundUp)]), a.B.Ints(bins)]);
        var means = new List<string>();
        for (var i = 0L; i < bins; i++)
        {
            var window = a.B.Op("Slice", [x, Bound(i, 0), Bound(i + 1, bins - 1), a.B.Ints(axis)]);
            means.Add(a.B.Op("ReduceMean", [window, a.B.Ints(axis)], Attr.Int("keepdims", 1)));
        }
        return means.Count == 1 ? means[0] : a.B.Op("Concat", means, Attr.Int("axis", axis));
    }

    /// <summary>
    /// im2col (unfold) of [N, C, H, W] or [C, H, W]: the padded input sliced once per kernel offset (i, j), every slice
    /// the window's element at that offset for all L output positions, stacked after the channel (PyTorch's order,
    /// row c*kh*kw + i*kw + j) and reshaped to [N, C*kh*kw, L]. Slices copy exactly, where a convolution with one-hot
    /// weights would turn an infinity anywhere in a window into NaNs across it.
    /// </summary>
    private static string Im2Col(LoweringNode a)
    {
        var meta = a.SelfMeta;
        var unbatched = meta.Rank == 3;
        var channels = a.StaticDims(meta, [meta.Rank - 3], "the input's channel")[0];
        var kernel = Spatial(a.Longs("kernel_size"), 2);
        var dilation = Spatial(a.Longs("dilation"), 2);
        var padding = Spatial(a.Longs("padding"), 2);
        var stride = Spatial(a.Longs("stride"), 2);
        var x = unbatched ? a.B.Op("Unsqueeze", [a.Self, a.B.Ints(0)]) : a.Self;
        if (padding.Any(p => p != 0))
        {
            x = a.B.Op("Pad", [x, a.B.Ints(padding[0], padding[1], padding[0], padding[1]), a.B.Scalar(0L, meta.DType), a.B.Ints(2, 3)]);
        }
        // Offset i of a dim starts at i*d and ends (k-1-i)*d before the end: every slice has the L positions' count.
        static long End(long i, long k, long d) => i == k - 1 ? long.MaxValue : -(k - 1 - i) * d;
        var offsets = new List<string>();
        for (var i = 0L; i < kernel[0]; i++)
        {
            for (var j = 0L; j < kernel[1]; j++)
            {
                var slice = a.B.Op("Slice", [x, a.B.Ints(i * dilation[0], j * dilation[1]),
                    a.B.Ints(End(i, kernel[0], dilation[0]), End(j, kernel[1], dilation[1])), a.B.Ints(2, 3), a.B.Ints(stride)]);
                offsets.Add(a.B.Op("Unsqueeze", [slice, a.B.Ints(2)]));
            }
        }
        var stacked = offsets.Count == 1 ? offsets[0] : a.B.Op("Concat", offsets, Attr.Int("axis", 2));
        var rows = channels * kernel[0] * kernel[1];
        return a.B.Op("Reshape", [stacked, unbatched ? a.B.Ints(rows, -1) : a.B.Ints(0, rows, -1)]);
    }

    /// <summary>Nearest upsampling: source index floor(dst * in / out), ONNX's asymmetric coordinates with floor.</summary>
    private static string UpsampleNearest(LoweringNode a)
    {
        RequireFloat(a);
        var x = a.Tensor("input");
        var attributes = new[] { Attr.String("mode", "nearest"), Attr.String("coordinate_transformation_mode", "asymmetric"), Attr.String("nearest_mode", "floor") };
        if (a.OptionalLongs("output_size") is { } size)
        {
            var sizes = a.B.Op("Concat", [a.B.Op("Shape", [x], Attr.Int("start", 0), Attr.Int("end", 2)), a.B.Ints(size)], Attr.Int("axis", 0));
            return a.B.Op("Resize", [x, "", "", sizes], attributes);
        }
        var factors = a.OptionalDoubles("scale_factors") ?? throw new NotLowerableException("upsampling without output_size or scale_factors");
        var scales = a.B.Constant(TensorDType.F32, [2 + factors.Length], [.. new[] { 1.0, 1.0 }.Concat(factors).SelectMany(f => OnnxTypes.Element(f, TensorDType.F32))]);
        return a.B.Op("Resize", [x, "", scales], attributes);
    }

    /// <summary>
    /// softmax(q k^T * scale + mask) v, with a boolean mask (or is_causal) as -inf where it is false, a float mask added;
    /// rows with nothing to attend to are zeros.
    /// </summary>
    private static string Attention(LoweringNode a)
    {
        RequireFloat(a);
        if (a.Double("dropout_p", 0) != 0)
        {
            throw Random("attention dropout");
        }
        var q = a.Tensor("query");
        var k = a.Tensor("key");
        var qMeta = a.Meta("query");
        var kMeta = a.Meta("key");
        if (a.Bool("enable_gqa", false) && qMeta.Sizes[^3] != kMeta.Sizes[^3])
        {
            throw new NotLowerableException("grouped-query attention with fewer key heads than query heads has no ONNX rule");
        }
        var dtype = qMeta.DType;
        var scale = a.OptionalDouble("scale") ?? 1 / Math.Sqrt(a.StaticDims(qMeta, [qMeta.Rank - 1], "the query's")[0]);
        var perm = Enumerable.Range(0, kMeta.Rank).Select(d => (long)d).ToArray();
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        var scores = a.B.Op("Mul", [a.B.Op("MatMul", [q, a.B.Op("Transpose", [k], Attr.Ints("perm", perm))]), a.B.Scalar(scale, dtype)]);
        var minusInfinity = a.B.Scalar(double.NegativeInfinity, dtype);
        if (a.Bool("is_causal", false))
        {
            var rows = a.B.Op("Shape", [q], Attr.Int("start", -2), Attr.Int("end", -1));
            var columns = a.B.Op("Shape", [k], Attr.Int("start", -2), Attr.Int("end", -1));
            var ones = Fill(a, a.B.Op("Concat", [rows, columns], Attr.Int("axis", 0)), 1L, TensorDType.BOOL);
            scores = a.B.Op("Where", [a.B.Op("Trilu", [ones], Attr.Int("upper", 0)), scores, minusInfinity]);
        }
        if (a.OptionalTensor("attn_mask") is { } mask)
        {
            scores = a.Meta("attn_mask").DType == TensorDType.BOOL
                ? a.B.Op("Where", [mask, scores, minusInfinity])
                : a.B.Op("Add", [scores, mask]);
        }
        var weights = a.B.Op("Softmax", [scores], Attr.Int("axis", -1));
        if (a.Bool("is_causal", false) || a.Has("attn_mask"))
        {
            // A query that may attend to nothing gets zeros, as PyTorch's safe softmax gives, not NaN.
            weights = a.B.Op("Where", [a.B.Op("IsNaN", [weights]), a.B.Scalar(0.0, dtype), weights]);
        }
        return a.B.Op("MatMul", [weights, a.Tensor("value")]);
    }
}
