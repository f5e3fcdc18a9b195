using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml;

namespace ModelBuild.Tasks;

/// <summary>
/// Finds the line of the element that declared an item, so that errors point at it: MSBuild items do not carry
/// line numbers, so the project XML is read for the item type's elements and their <c>Include</c>. An exact match
/// wins, then a wildcard that matches, then one whose file name matches (an Include written with properties);
/// otherwise line 0, the project file itself.
/// </summary>
public static class ProjectItemLocator
{
    /// <param name="projectFile">the file that declared the item (its DefiningProjectFullPath).</param>
    /// <param name="itemSpec">the item's Include as evaluated (relative to the project folder).</param>
    /// <returns>1-based line, or 0 when not found.</returns>
    public static int FindLine(string projectFile, string itemType, string itemSpec)
    {
        (int Line, string Include)[] elements;
        try
        {
            elements = Elements(projectFile, itemType);
        }
        catch (Exception e) when (e is IOException or XmlException or UnauthorizedAccessException)
        {
            return 0;
        }
        var spec = Normalize(itemSpec);
        var parts = elements.SelectMany(e => e.Include.Split(';').Select(p => (e.Line, Part: Normalize(p.Trim())))).Where(p => p.Part.Length > 0).ToList();
        var exact = parts.FirstOrDefault(p => string.Equals(p.Part, spec, StringComparison.Ordinal));
        if (exact.Line > 0)
        {
            return exact.Line;
        }
        var wildcard = parts.FirstOrDefault(p => p.Part.IndexOfAny(new[] { '*', '?' }) >= 0 && GlobToRegex(p.Part).IsMatch(spec));
        if (wildcard.Line > 0)
        {
            return wildcard.Line;
        }
        var fileName = Path.GetFileName(spec);
        var sameName = parts.FirstOrDefault(p => string.Equals(Path.GetFileName(PropertyReference.Replace(p.Part, "/")), fileName, StringComparison.Ordinal));
        return sameName.Line;
    }

    private static (int Line, string Include)[] Elements(string projectFile, string itemType)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
        using var reader = XmlReader.Create(projectFile, settings);
        var info = (IXmlLineInfo)reader;
        var found = new System.Collections.Generic.List<(int, string)>();
        while (reader.Read())
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == itemType && reader.GetAttribute("Include") is { } include)
            {
                found.Add((info.LineNumber, include));
            }
        }
        return found.ToArray();
    }

    private static readonly Regex PropertyReference = new(@"\$\([^)]*\)", RegexOptions.CultureInvariant);

    private static string Normalize(string path) => path.Replace('\\', '/').TrimStart('.', '/').Replace("/./", "/");

    private static Regex GlobToRegex(string glob) =>
        new("^" + Regex.Escape(glob).Replace(@"\*\*/", "(.*/)?").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$", RegexOptions.CultureInvariant);
}
