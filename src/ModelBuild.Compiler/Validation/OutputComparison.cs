using static TorchSharp.torch;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// How close an output is to the expected one. It passes when every element has |a - b| &lt;= tol + tol * |b|
/// (torch.allclose with atol = rtol = tol). MaxAbs is max |a - b|; MaxRel is max |a - b| / |b| over the elements
/// with |b| &gt;= tol (smaller ones are judged by the absolute error). Both NaN counts as equal.
/// </summary>
public sealed record OutputComparison(double MaxAbs, double MaxRel, bool Passed)
{
    public static OutputComparison Of(Tensor actual, Tensor expected, double tolerance)
    {
        using var scope = NewDisposeScope();
        var a = actual.cpu().to(ScalarType.Float64);
        var b = expected.cpu().to(ScalarType.Float64);
        var bothNaN = a.isnan().logical_and(b.isnan());
        var diff = (a - b).abs().masked_fill(bothNaN, 0);
        if (diff.numel() == 0)
        {
            return new OutputComparison(0, 0, true);
        }
        var absB = b.abs().nan_to_num(0);
        var maxAbs = diff.nan_to_num(double.PositiveInfinity).max().item<double>();
        var large = absB >= tolerance;
        var maxRel = large.any().item<bool>() ? (diff.masked_select(large) / absB.masked_select(large)).nan_to_num(double.PositiveInfinity).max().item<double>() : 0;
        var passed = diff.nan_to_num(double.PositiveInfinity).le(absB * tolerance + tolerance).all().item<bool>();
        return new OutputComparison(maxAbs, maxRel, passed);
    }
}
