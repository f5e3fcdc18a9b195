using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Kernels that reduce along dims, scan, normalize to probabilities, or rank.</summary>
public static partial class OpKernels
{
    private static void AddReductions(KernelTable t)
    {
        t.Op("aten.sum.dim_IntList", a => a.Self.sum(ReducedDims(a, "dim"), a.Bool("keepdim", false), a.OptionalDType()));
        t.Op("aten.sum.default", a => a.Self.sum(a.OptionalDType()));
        t.Op("aten.mean.dim", a => a.Self.mean(ReducedDims(a, "dim"), a.Bool("keepdim", false), a.OptionalDType()));
        t.Op("aten.mean.default", a => a.Self.mean(ReducedDims(a, "dim"), false, a.OptionalDType()));
        t.Op("aten.prod.dim_int", a => a.Self.prod(a.Long("dim"), a.Bool("keepdim", false), a.OptionalDType()));
        t.Op("aten.prod.default", a => a.Self.prod(a.OptionalDType()));
        t.Op("aten.amax.default", a => a.Self.amax(ReducedDims(a, "dim"), a.Bool("keepdim", false)));
        t.Op("aten.amin.default", a => a.Self.amin(ReducedDims(a, "dim"), a.Bool("keepdim", false)));
        t.Multi("aten.max.dim", a =>
        {
            var (values, indices) = a.Self.max(a.Long("dim"), a.Bool("keepdim", false));
            return [values, indices];
        });
        t.Multi("aten.min.dim", a =>
        {
            var (values, indices) = a.Self.min(a.Long("dim"), a.Bool("keepdim", false));
            return [values, indices];
        });
        t.Unary("aten.max.default", x => x.max());
        t.Unary("aten.min.default", x => x.min());
        t.Op("aten.argmax.default", a => a.OptionalLong("dim") is { } dim ? a.Self.argmax(dim, a.Bool("keepdim", false)) : a.Self.argmax());
        t.Op("aten.argmin.default", a => a.OptionalLong("dim") is { } dim ? a.Self.argmin(dim, a.Bool("keepdim", false)) : a.Self.argmin());
        t.Op("aten.any.dim", a => a.Self.any(a.Long("dim"), a.Bool("keepdim", false)));
        t.Op("aten.any.dims", a => AnyAll(a, any: true));
        t.Unary("aten.any.default", x => x.any());
        t.Op("aten.all.dim", a => a.Self.all(a.Long("dim"), a.Bool("keepdim", false)));
        t.Op("aten.all.dims", a => AnyAll(a, any: false));
        t.Unary("aten.all.default", x => x.all());
        t.Op("aten.var.correction", a => Variance(a, a.OptionalDouble("correction") ?? 1, root: false));
        t.Op("aten.var.dim", a => Variance(a, a.Bool("unbiased", true) ? 1 : 0, root: false));
        t.Op("aten.var.default", a => Variance(a, a.Bool("unbiased", true) ? 1 : 0, root: false));
        t.Op("aten.std.correction", a => Variance(a, a.OptionalDouble("correction") ?? 1, root: true));
        t.Op("aten.std.dim", a => Variance(a, a.Bool("unbiased", true) ? 1 : 0, root: true));
        t.Op("aten.std.default", a => Variance(a, a.Bool("unbiased", true) ? 1 : 0, root: true));
        t.Op("aten.cumsum.default", a => a.Self.cumsum(a.Long("dim"), a.OptionalDType()));
        t.Op("aten.logsumexp.default", a => ReduceEach(a.Self, ReducedDims(a, "dim"), a.Bool("keepdim", false), (x, d, k) => x.logsumexp(d, k)));

        t.Op("aten.softmax.int", a => a.Self.softmax(a.Long("dim"), a.OptionalDType()));
        t.Op("aten._softmax.default", a => Softmax(a, log: false));
        t.Op("aten.log_softmax.int", a => a.Self.log_softmax(a.Long("dim"), a.OptionalDType()));
        t.Op("aten._log_softmax.default", a => Softmax(a, log: true));
        t.Multi("aten.topk.default", a =>
        {
            var (values, indices) = a.Self.topk((int)a.Long("k"), (int)a.Long("dim", -1), a.Bool("largest", true), a.Bool("sorted", true));
            return [values, indices];
        });
        t.Multi("aten.sort.default", a =>
        {
            var (values, indices) = a.Self.sort(a.Long("dim", -1), a.Bool("descending", false));
            return [values, indices];
        });
        t.Multi("aten.sort.stable", a =>
        {
            var (values, indices) = a.Self.sort(a.Long("dim", -1), a.Bool("descending", false), a.Bool("stable", false));
            return [values, indices];
        });
    }

    /// <summary>A reduction's dims; None or an empty list means every dim, as in ATen.</summary>
    private static long[] ReducedDims(NodeArguments a, string name) =>
        a.OptionalLongs(name) is { Length: > 0 } dims ? dims : [.. Enumerable.Range(0, (int)a.Self.dim()).Select(d => (long)d)];

    /// <summary>any/all over dims; of a 0-dim tensor, whether it is non-zero (bool, or uint8 for uint8 as in ATen).</summary>
    private static Tensor AnyAll(NodeArguments a, bool any) => a.Self.dim() == 0
        ? a.Self.ne(0).to(a.Self.dtype == ScalarType.Byte ? ScalarType.Byte : ScalarType.Bool)
        : ReduceEach(a.Self, ReducedDims(a, "dim"), a.Bool("keepdim", false), (x, d, k) => any ? x.any(d, k) : x.all(d, k));

    /// <summary>Reduces one dim at a time, highest first so the remaining dims keep their numbers.</summary>
    private static Tensor ReduceEach(Tensor x, long[] dims, bool keepdim, Func<Tensor, long, bool, Tensor> reduce)
    {
        var rank = x.dim();
        var result = x.alias();
        foreach (var dim in dims.Select(d => d < 0 ? d + rank : d).Distinct().OrderDescending())
        {
            using var previous = result;
            result = reduce(previous, dim, keepdim);
        }

        return result;
    }

    private static Tensor Variance(NodeArguments a, double correction, bool root)
    {
        var x = a.Self;
        var dims = ReducedDims(a, "dim");
        var keepdim = a.Bool("keepdim", false);
        if (correction is 0 or 1)
        {
            return root ? x.std(dims, correction == 1, keepdim) : x.var(dims, correction == 1, keepdim);
        }

        var count = dims.Aggregate(1L, (n, d) => n * x.size((int)d));
        using var biased = x.var(dims, false, keepdim);
        using var scaled = biased.mul(count / Math.Max(0, count - correction));
        return root ? scaled.sqrt() : scaled.alias();
    }

    private static Tensor Softmax(NodeArguments a, bool log)
    {
        var x = a.Self;
        ScalarType? dtype = a.Bool("half_to_float", false) ? ScalarType.Float32 : null;
        return log ? x.log_softmax(a.Long("dim"), dtype) : x.softmax(a.Long("dim"), dtype);
    }
}
