using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Statistics beyond plain reductions: moments together, order statistics, NaN-skipping reductions, norms and scans.</summary>
public static partial class OpKernels
{
    private static void AddStatistics(KernelTable t)
    {
        t.Multi("aten.var_mean.correction", a => VarianceAndMean(a, a.OptionalDouble("correction") ?? 1, root: false));
        t.Multi("aten.var_mean.dim", a => VarianceAndMean(a, a.Bool("unbiased", true) ? 1 : 0, root: false));
        t.Multi("aten.var_mean.default", a => VarianceAndMean(a, a.Bool("unbiased", true) ? 1 : 0, root: false));

        t.Op("aten.cumprod.default", a => a.Self.cumprod(a.Long("dim"), a.OptionalDType()));
        t.Op("aten.logcumsumexp.default", a => logcumsumexp(a.Self, a.Long("dim")));

        t.Op("aten.argsort.default", a => SortedIndices(a.Self, a.Long("dim", -1), a.Bool("descending", false)));
        t.Op("aten.msort.default", a =>
        {
            var (values, _) = a.Self.sort(0);
            return values;
        });
        t.Unary("aten.median.default", x => x.median());
        t.Unary("aten.nanmedian.default", x => x.nanmedian());
        t.Multi("aten.nanmedian.dim", NanMedian);

        t.Op("aten.nansum.default", a => NoNan(a.Self).sum(ReducedDims(a, "dim"), a.Bool("keepdim", false), a.OptionalDType()));
        t.Op("aten.nanmean.default", a =>
        {
            var dims = ReducedDims(a, "dim");
            var keepdim = a.Bool("keepdim", false);
            var x = a.OptionalDType() is { } dtype ? a.Self.to(dtype) : a.Self;
            return NoNan(x).sum(dims, keepdim).div(x.isnan().logical_not().sum(dims, keepdim));
        });
        t.Op("aten.count_nonzero.dim_IntList", a => a.Self.count_nonzero(ReducedDims(a, "dim")));
        t.Op("aten.count_nonzero.default", a => a.Self.count_nonzero(ReducedDims(a, "dim")));

        t.Op("aten.linalg_vector_norm.default", a =>
            linalg.vector_norm(Typed(a), a.Double("ord", 2), ReducedDims(a, "dim"), a.Bool("keepdim", false)));
        t.Op("aten.linalg_matrix_norm.str_ord", a =>
            linalg.matrix_norm(Typed(a), a.OptionalString("ord") ?? "fro", a.Longs("dim", -2, -1), a.Bool("keepdim", false)));
        t.Op("aten.linalg_norm.default", a => a.OptionalDouble("ord") is { } ord
            ? linalg.norm(Typed(a), ord, a.OptionalLongs("dim"), a.Bool("keepdim", false))
            : linalg.norm(Typed(a), a.OptionalLongs("dim"), a.Bool("keepdim", false)));
        t.Op("aten.trapezoid.x", a => trapezoid(a.Tensor("y"), a.Tensor("x"), a.Long("dim", -1)));
        t.Op("aten.trapezoid.dx", a => trapezoid(a.Tensor("y"), a.Double("dx", 1), a.Long("dim", -1)));
        t.Op("aten.trapz.x", a => trapezoid(a.Tensor("y"), a.Tensor("x"), a.Long("dim", -1)));
        t.Op("aten.cumulative_trapezoid.x", a => cumulative_trapezoid(a.Tensor("y"), a.Tensor("x"), a.Long("dim", -1)));
        t.Op("aten.cumulative_trapezoid.dx", a => cumulative_trapezoid(a.Tensor("y"), a.Double("dx", 1), a.Long("dim", -1)));
        t.Op("aten._safe_softmax.default", a =>
        {
            var x = a.Self;
            var dim = a.Long("dim");
            var masked = x.eq(double.NegativeInfinity).all(dim, keepdim: true);
            return x.softmax(dim, a.OptionalDType()).masked_fill(masked, 0);
        });
    }

    private static object?[] VarianceAndMean(NodeArguments a, double correction, bool root)
    {
        var spread = Variance(a, correction, root);
        return [spread, a.Self.mean(ReducedDims(a, "dim"), a.Bool("keepdim", false))];
    }

    private static Tensor SortedIndices(Tensor x, long dim, bool descending)
    {
        var (_, indices) = x.sort(dim, descending);
        return indices;
    }

    private static Tensor NoNan(Tensor x) => x.is_floating_point() ? x.nan_to_num(0, double.PositiveInfinity, double.NegativeInfinity) : x;

    /// <summary>The input in the node's dtype argument, if it has one (the norms compute in it).</summary>
    private static Tensor Typed(NodeArguments a) => a.OptionalDType() is { } dtype ? a.Self.to(dtype) : a.Self;

    /// <summary>
    /// The lower median of the non-NaN values along dim and its index: ascending sort puts NaN last, so with k non-NaN
    /// values the median sits at (k - 1) / 2 (at 0, a NaN, when all are NaN).
    /// </summary>
    private static object?[] NanMedian(NodeArguments a)
    {
        var x = a.Self;
        var dim = a.Long("dim");
        var keepdim = a.Bool("keepdim", false);
        if (x.dim() == 0)
        {
            return [x.clone(), zeros([], ScalarType.Int64, x.device)];
        }

        var (sorted, order) = x.sort(dim, stable: true);
        var count = x.isnan().logical_not().sum([dim], keepdim: true);
        var position = count.sub(1).clamp_min(0).div(2, RoundingMode.floor);
        var values = sorted.gather(dim, position);
        var indices = order.gather(dim, position);
        return keepdim ? [values, indices] : [values.squeeze(dim), indices.squeeze(dim)];
    }
}
