using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Pooling beyond the 1-d and 2-d windows of the network layers: 3-d, adaptive max, fractional, and the pooling gradients.</summary>
public static partial class OpKernels
{
    private static void AddPooling(KernelTable t)
    {
        t.Op("aten.max_pool3d.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 3);
            return F.max_pool3d(a.Self, kernel, stride, padding, dilation, a.Bool("ceil_mode", false));
        });
        t.Multi("aten.max_pool3d_with_indices.default", a =>
        {
            var (kernel, stride, padding, dilation) = PoolWindow(a, 3);
            var (values, indices) = F.max_pool3d_with_indices(a.Self, kernel, stride, padding, dilation, a.Bool("ceil_mode", false));
            return [values, indices];
        });
        t.Op("aten.avg_pool3d.default", a =>
        {
            var (kernel, stride, padding, _) = PoolWindow(a, 3);
            return F.avg_pool3d(a.Self, kernel, stride, padding, a.Bool("ceil_mode", false), a.Bool("count_include_pad", true), a.OptionalLong("divisor_override"));
        });
        t.Op("aten.adaptive_avg_pool3d.default", a => F.adaptive_avg_pool3d(a.Self, Expand(a.Longs("output_size"), 3)));
        t.Op("aten._adaptive_avg_pool3d.default", a => F.adaptive_avg_pool3d(a.Self, Expand(a.Longs("output_size"), 3)));
        t.Multi("aten.adaptive_max_pool1d.default", a =>
        {
            var (values, indices) = F.adaptive_max_pool1d_with_indices(a.Self, a.Longs("output_size")[0]);
            return [values, indices];
        });
        t.Multi("aten.adaptive_max_pool2d.default", a =>
        {
            var (values, indices) = F.adaptive_max_pool2d_with_indices(a.Self, Expand(a.Longs("output_size"), 2));
            return [values, indices];
        });
        t.Multi("aten.adaptive_max_pool3d.default", a => AdaptiveMaxPool(a.Self, Expand(a.Longs("output_size"), 3)));
        t.Multi("aten.fractional_max_pool2d.default", a => FractionalMaxPool(a, 2));
        t.Multi("aten.fractional_max_pool3d.default", a => FractionalMaxPool(a, 3));

        t.Op("aten.avg_pool2d_backward.default", a =>
        {
            var (kernel, stride, padding, _) = PoolWindow(a, 2);
            return F.avg_pool2d_backward(a.Tensor("grad_output"), a.Self, kernel, stride, padding,
                a.Bool("ceil_mode", false), a.Bool("count_include_pad", true), a.OptionalLong("divisor_override"));
        });
        t.Op("aten.max_pool2d_with_indices_backward.default", a => MaxPoolBackward(a.Tensor("grad_output"), a.Self, a.Tensor("indices"), 2));
        t.Op("aten._adaptive_avg_pool2d_backward.default", a =>
        {
            var grad = a.Tensor("grad_output");
            long[] size = [grad.size(-2), grad.size(-1)];
            return Gradients([a.Self], x => F.adaptive_avg_pool2d(x[0], size), grad)[0];
        });
    }

    /// <summary>
    /// The gradient of max pooling: each output gradient goes to the input element its index names (indices count
    /// within each plane, so planes are flattened and the gradients added there).
    /// </summary>
    private static Tensor MaxPoolBackward(Tensor grad, Tensor input, Tensor indices, int rank)
    {
        var planes = input.shape[..^rank];
        var gradient = zeros([.. planes, input.shape[^rank..].Aggregate(1L, (n, d) => n * d)], grad.dtype, grad.device);
        var flat = gradient.scatter_add(-1, indices.flatten(-rank), grad.flatten(-rank));
        return flat.reshape(input.shape);
    }

    /// <summary>
    /// Fractional max pooling with the node's random samples (ATen's generate_intervals): along a dim of input size I,
    /// window K and output size O, window i starts at trunc((i + u) * a) - trunc(u * a) with a = (I - K) / (O - 1),
    /// computed in the input's dtype, and the last window ends at I. The samples list W, H for 2-d and T, H, W for 3-d.
    /// </summary>
    private static object?[] FractionalMaxPool(NodeArguments a, int rank)
    {
        var batched = a.Self.dim() == rank + 2;
        var x = batched ? a.Self : a.Self.unsqueeze(0);
        var samples = a.Tensor("random_samples");
        var kernel = Expand(a.Longs("kernel_size"), rank);
        var output = Expand(a.Longs("output_size"), rank);
        int[] sampleOf = rank == 2 ? [1, 0] : [0, 1, 2];
        var windows = new Tensor[rank];
        for (var d = 0; d < rank; d++)
        {
            var size = x.size(2 + d);
            var last = full([x.size(0), x.size(1), 1], size - kernel[d], ScalarType.Int64, x.device);
            var starts = last;
            if (output[d] > 1)
            {
                var u = samples.select(-1, sampleOf[d]).to(x.dtype).unsqueeze(-1);
                var alpha = full([], (double)(size - kernel[d]) / (output[d] - 1), x.dtype, x.device);
                var steps = arange(output[d] - 1, x.dtype, x.device);
                starts = cat([steps.add(u).mul(alpha).trunc().sub(u.mul(alpha).trunc()).to(ScalarType.Int64), last], -1);
            }

            windows[d] = starts.unsqueeze(-1).add(arange(kernel[d], ScalarType.Int64, x.device));
        }

        var (pooled, indices) = WindowMaxPool(x, windows);
        return batched ? [pooled, indices] : [pooled.squeeze(0), indices.squeeze(0)];
    }

    /// <summary>
    /// Adaptive max pooling (TorchSharp's 3-d form runs the 1-d one): output i of a dim of size I pools
    /// [floor(i * I / O), ceil((i + 1) * I / O)); shorter windows repeat their last position, which changes neither the
    /// maximum nor the first index reaching it.
    /// </summary>
    private static object?[] AdaptiveMaxPool(Tensor input, long[] output)
    {
        var rank = output.Length;
        var batched = input.dim() == rank + 2;
        var x = batched ? input : input.unsqueeze(0);
        var windows = new Tensor[rank];
        for (var d = 0; d < rank; d++)
        {
            var size = x.size(2 + d);
            var starts = Enumerable.Range(0, (int)output[d]).Select(i => i * size / output[d]).ToArray();
            var ends = Enumerable.Range(0, (int)output[d]).Select(i => (((i + 1) * size) + output[d] - 1) / output[d]).ToArray();
            var width = starts.Zip(ends, (b, e) => e - b).Max();
            var positions = tensor(starts, device: x.device).unsqueeze(-1).add(arange(width, ScalarType.Int64, x.device));
            windows[d] = positions.minimum(tensor(ends, device: x.device).sub(1).unsqueeze(-1)).reshape(1, 1, output[d], width);
        }

        var (pooled, indices) = WindowMaxPool(x, windows);
        return batched ? [pooled, indices] : [pooled.squeeze(0), indices.squeeze(0)];
    }

    /// <summary>
    /// Max pooling over given windows: <paramref name="windows"/>[d] holds, per output position along spatial dim d, the
    /// input positions it covers ([N or 1, C or 1, O, K]). Returns the maxima (NaN wins, the first of ties) and their
    /// indices within each plane, row-major over the spatial dims, as ATen's max pooling returns them.
    /// </summary>
    private static (Tensor Values, Tensor Indices) WindowMaxPool(Tensor x, Tensor[] windows)
    {
        var rank = windows.Length;
        var spatial = x.shape[2..];
        var output = windows.Select(w => w.size(-2)).ToArray();
        var kernel = windows.Select(w => w.size(-1)).ToArray();
        var values = x;
        var linear = zeros([x.size(0), x.size(1), .. Enumerable.Repeat(1L, rank * 2)], ScalarType.Int64, x.device);
        for (var d = 0; d < rank; d++)
        {
            // Gather dim d's windows: [.., O * K, ..]; the linear index within the plane follows the same positions.
            var positions = windows[d].flatten(-2);
            var shape = values.shape.ToArray();
            shape[2 + d] = positions.size(-1);
            var index = positions.reshape([.. positions.shape[..2], .. Enumerable.Repeat(1L, d), positions.size(-1), .. Enumerable.Repeat(1L, rank - d - 1)]);
            values = values.gather(2 + d, index.expand(shape));
            var stride = spatial[(d + 1)..].Aggregate(1L, (n, s) => n * s);
            linear = linear.add(windows[d].mul(stride).reshape([.. windows[d].shape[..2], .. Enumerable.Range(0, rank)
                .SelectMany(k => k == d ? new[] { output[d], kernel[d] } : new[] { 1L, 1L })]));
        }

        // [N, C, O0, K0, O1, K1, ...] -> [N, C, O0, O1, ..., K0 * K1 * ...]
        var split = values.reshape([x.size(0), x.size(1), .. Enumerable.Range(0, rank).SelectMany(k => new[] { output[k], kernel[k] })]);
        long[] order = [0, 1, .. Enumerable.Range(0, rank).Select(k => 2L + (2 * k)), .. Enumerable.Range(0, rank).Select(k => 3L + (2 * k))];
        var windowed = split.permute(order).flatten(2 + rank);
        var linearWindowed = linear.expand(split.shape).permute(order).flatten(2 + rank);
        var (pooled, best) = windowed.max(-1);
        return (pooled, linearWindowed.gather(-1, best.unsqueeze(-1)).squeeze(-1));
    }
}
