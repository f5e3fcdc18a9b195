using System.Globalization;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;

namespace ModelBuild.Compiler.Shapes;

/// <summary>
/// One <c>--shape &lt;input&gt;:&lt;dim&gt;=&lt;min&gt;..&lt;opt&gt;..&lt;max&gt;</c> option (also <c>min..max</c>, or a single
/// size for a dim that is static or fixed).
/// </summary>
public sealed partial record ShapeOption(string Input, int Dim, long Min, long? Opt, long Max)
{
    public static ShapeOption Parse(string text, string file)
    {
        var m = Pattern().Match(text);
        if (!m.Success)
        {
            throw new ModelBuildException(DiagnosticCodes.ShapeOptionMalformed,
                $"--shape '{text}' is not of the form <input>:<dim>=<min>..<opt>..<max> (or <min>..<max>, or one size), e.g. x:0=1..8..32.", file);
        }
        var n = m.Groups["n"].Captures.Select(c => long.Parse(c.Value, CultureInfo.InvariantCulture)).ToArray();
        var (min, opt, max) = n.Length switch
        {
            1 => (n[0], (long?)n[0], n[0]),
            2 => (n[0], null, n[1]),
            _ => (n[0], (long?)n[1], n[2]),
        };
        if (min < 0 || min > max || (opt is { } o && (o < min || o > max)))
        {
            throw new ModelBuildException(DiagnosticCodes.ShapeRangeDisordered,
                $"--shape '{text}' must have 0 <= min <= opt <= max.", file);
        }
        return new ShapeOption(m.Groups["input"].Value, int.Parse(m.Groups["dim"].Value, CultureInfo.InvariantCulture), min, opt, max);
    }

    public override string ToString() => Opt is { } o ? $"{Input}:{Dim}={Min}..{o}..{Max}" : $"{Input}:{Dim}={Min}..{Max}";

    [GeneratedRegex(@"^(?<input>[^:=\s]+):(?<dim>\d+)=(?<n>\d+)(?:\.\.(?<n>\d+)){0,2}$")]
    private static partial Regex Pattern();
}
