using System.Globalization;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// When an engine's output counts as the expected one (<see cref="OutputComparison"/>): its scaled error is at most
/// <see cref="Tolerance"/> and its cosine similarity at least <see cref="MinCosine"/>. The defaults follow the precision:
/// correct fp32 engines stay near 1e-6, fp16/bf16 ones near their rounding (about 1e-3 and 8e-3 relative to the output's
/// scale); a wrong kernel or weight is off by far more. Deep networks add up more rounding than that at fp16/bf16
/// (PyTorch's own autocast misses these defaults on them), so a reduced-precision engine is also held to eager execution
/// at its precision (<see cref="RelativeTo"/>) unless a tolerance was given: one the user sets is the bound.
/// </summary>
/// <param name="Tolerance">The largest scaled error.</param>
/// <param name="MinCosine">The smallest cosine similarity.</param>
/// <param name="FollowsEager">Whether <see cref="RelativeTo"/> may loosen these criteria to twice eager's error.</param>
public sealed record ValidationCriteria(double Tolerance, double MinCosine, bool FollowsEager = false)
{
    /// <summary>How much worse than eager execution at its precision an engine may be: it fuses and reorders, so not quite as good, but not much worse.</summary>
    public const double EagerFactor = 2;

    /// <summary>The criteria for <paramref name="precision"/>, with the tolerance given (<c>--tolerance</c>) or the precision's default.</summary>
    public static ValidationCriteria For(string precision, double? tolerance) => precision switch
    {
        "fp16" => new(tolerance ?? 1e-2, 0.999, FollowsEager: tolerance is null),
        "bf16" => new(tolerance ?? 5e-2, 0.99, FollowsEager: tolerance is null),
        _ => new(tolerance ?? 1e-4, 0.9999),
    };

    /// <summary>
    /// The criteria for an output of a reduced-precision engine whose eager reference (the unoptimized graph lowered to
    /// the precision and interpreted, see <see cref="ReferenceInterpreter"/>) is <paramref name="eager"/> off the same
    /// expected output: these criteria, or <see cref="EagerFactor"/> times eager's scaled error and cosine gap, whichever
    /// is looser; these criteria alone when they do not <see cref="FollowsEager"/> (a tolerance the user gave).
    /// </summary>
    public ValidationCriteria RelativeTo(OutputComparison eager)
    {
        ArgumentNullException.ThrowIfNull(eager);
        return !FollowsEager ? this
            : this with { Tolerance = Math.Max(Tolerance, EagerFactor * eager.ScaledError), MinCosine = Math.Min(MinCosine, 1 - EagerFactor * (1 - eager.Cosine)) };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"scaled error <= {Tolerance:G4}, cosine similarity >= {MinCosine:G6}");
}
