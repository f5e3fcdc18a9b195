using System.Text.RegularExpressions;

namespace ModelBuild.Tasks;

/// <summary>
/// One diagnostic line of modelc: <c>modelc: error MB2001: models/x.pt2: the op aten.foo is not supported.</c>
/// (DESIGN.md's command-line contract). The file part is optional.
/// </summary>
public sealed record ModelcDiagnostic(bool IsError, string Code, string? File, string Message)
{
    private static readonly Regex Line = new(
        @"^\s*modelc:\s+(?<severity>error|warning)\s+(?<code>MB\d{4}):\s*(?:(?<file>[^:\r\n]+?):\s+)?(?<message>.*?)\s*$",
        RegexOptions.CultureInvariant);

    /// <returns>null for any other line.</returns>
    public static ModelcDiagnostic? TryParse(string line)
    {
        var match = Line.Match(line);
        if (!match.Success)
        {
            return null;
        }
        var file = match.Groups["file"].Success ? match.Groups["file"].Value : null;
        return new ModelcDiagnostic(match.Groups["severity"].Value == "error", match.Groups["code"].Value, file, match.Groups["message"].Value);
    }
}
