using static TorchSharp.torch;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// How close an output is to the expected one, measured on the output's own scale so that the measure means the same
/// for outputs near 1e-8 and near 1e3: with s the root-mean-square of the expected output's finite elements (its typical
/// magnitude), <see cref="ScaledError"/> is the largest |a - b| / (|b| + s) over the elements; an element as large as
/// the typical one may be off by about tol·2s, a larger one by tol·|b|. <see cref="Cosine"/> is the cosine similarity of the
/// outputs as vectors (1 for two zero outputs). Integer and bool outputs must be equal. NaN and infinities of the same
/// sign count as equal to themselves. <see cref="MaxAbs"/> and <see cref="MaxRel"/> (|a - b| / |b| over the elements at
/// least s in size) are reported for people, not judged.
/// </summary>
public sealed record OutputComparison(double MaxAbs, double MaxRel, double ScaledError, double Cosine)
{
    public bool Meets(ValidationCriteria criteria) => ScaledError <= criteria.Tolerance && Cosine >= criteria.MinCosine;

    public static OutputComparison Of(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var a = actual.cpu().to(ScalarType.Float64);
        var b = expected.cpu().to(ScalarType.Float64);
        var same = a.eq(b).logical_or(a.isnan().logical_and(b.isnan()));
        var diff = (a - b).abs().nan_to_num(double.PositiveInfinity, double.PositiveInfinity).masked_fill(same, 0);
        if (diff.numel() == 0)
        {
            return new OutputComparison(0, 0, 0, 1);
        }
        var maxAbs = diff.max().item<double>();
        if (!expected.is_floating_point())
        {
            return new OutputComparison(maxAbs, maxAbs == 0 ? 0 : double.PositiveInfinity, maxAbs == 0 ? 0 : double.PositiveInfinity, maxAbs == 0 ? 1 : 0);
        }
        var finite = b.isfinite().logical_and(a.isfinite());
        var absB = b.abs().masked_fill(finite.logical_not(), 0);
        var scale = absB.square().mean().sqrt().item<double>();
        // 0 / 0 (an exact zero where zero was expected, in an all-zero output) is no error.
        var scaled = (diff / (absB + scale)).nan_to_num(0, double.PositiveInfinity).max().item<double>();
        var large = absB.ge(scale).logical_and(absB.gt(0));
        var maxRel = large.any().item<bool>() ? (diff.masked_select(large) / absB.masked_select(large)).max().item<double>() : 0;
        return new OutputComparison(maxAbs, maxRel, scaled, CosineOf(a.masked_fill(finite.logical_not(), 0), b.masked_fill(finite.logical_not(), 0)));
    }

    private static double CosineOf(Tensor a, Tensor b)
    {
        var na = a.norm().item<double>();
        var nb = b.norm().item<double>();
        return na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : Math.Min(1, (a * b).sum().item<double>() / (na * nb));
    }
}
