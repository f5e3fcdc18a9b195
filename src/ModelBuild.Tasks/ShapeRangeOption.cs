using System;
using System.Globalization;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>One <c>--shape input:dim=min..opt..max</c> option: the range the engine is compiled for on one input dim.</summary>
public sealed class ShapeRangeOption
{
    private static readonly Regex Syntax = new(
        @"^(?<input>[A-Za-z_][A-Za-z0-9_.]*):(?<dim>\d+)=(?<min>\d+)\.\.(?<opt>\d+)\.\.(?<max>\d+)$",
        RegexOptions.CultureInvariant);

    private ShapeRangeOption(string input, int dim, long min, long opt, long max)
    {
        Input = input;
        Dim = dim;
        Min = min;
        Opt = opt;
        Max = max;
    }

    public string Input { get; }
    public int Dim { get; }
    public long Min { get; }
    public long Opt { get; }
    public long Max { get; }

    /// <exception cref="ModelBuildException">MB6004 when the text is not <c>input:dim=min..opt..max</c> with min &lt;= opt &lt;= max.</exception>
    public static ShapeRangeOption Parse(string text, string modelFile)
    {
        var match = Syntax.Match(text.Trim());
        if (!match.Success
            || !int.TryParse(match.Groups["dim"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var dim)
            || !long.TryParse(match.Groups["min"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            || !long.TryParse(match.Groups["opt"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var opt)
            || !long.TryParse(match.Groups["max"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var max))
        {
            throw new ModelBuildException(DiagnosticCodes.MalformedShapeOption,
                $"Shapes entry '{text.Trim()}' is not 'input:dim=min..opt..max' (for example 'x:0=1..8..64').", modelFile);
        }
        if (min < 1 || min > opt || opt > max)
        {
            throw new ModelBuildException(DiagnosticCodes.MalformedShapeOption,
                $"Shapes entry '{text.Trim()}' needs 1 <= min <= opt <= max.", modelFile);
        }
        return new ShapeRangeOption(match.Groups["input"].Value, dim, min, opt, max);
    }

    /// <summary>The canonical text, as modelc takes it.</summary>
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0}:{1}={2}..{3}..{4}", Input, Dim, Min, Opt, Max);
}
