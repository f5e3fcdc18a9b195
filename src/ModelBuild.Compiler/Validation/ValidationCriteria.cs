using System.Globalization;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// When an engine's output counts as the expected one (<see cref="OutputComparison"/>): its scaled error is at most
/// <see cref="Tolerance"/> and its cosine similarity at least <see cref="MinCosine"/>. The defaults follow the precision:
/// correct fp32 engines stay near 1e-6, fp16/bf16 ones near their rounding (about 1e-3 and 8e-3 relative to the output's
/// scale); a wrong kernel or weight is off by far more.
/// </summary>
public sealed record ValidationCriteria(double Tolerance, double MinCosine)
{
    /// <summary>The criteria for <paramref name="precision"/>, with the tolerance given (<c>--tolerance</c>) or the precision's default.</summary>
    public static ValidationCriteria For(string precision, double? tolerance) => precision switch
    {
        "fp16" => new(tolerance ?? 1e-2, 0.999),
        "bf16" => new(tolerance ?? 5e-2, 0.99),
        _ => new(tolerance ?? 1e-4, 0.9999),
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"scaled error <= {Tolerance:G4}, cosine similarity >= {MinCosine:G6}");
}
