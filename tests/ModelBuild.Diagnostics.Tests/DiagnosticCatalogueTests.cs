using System.Reflection;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Tests;

namespace ModelBuild.Diagnostics.Tests;

/// <summary>The catalogue in DiagnosticCodes and the page users read (docs/diagnostics.md) stay one and the same.</summary>
[TestClass]
public sealed partial class DiagnosticCatalogueTests
{
    private static readonly IReadOnlyList<(string Name, string Code)> Codes = typeof(DiagnosticCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (f.Name, (string)f.GetRawConstantValue()!))
        .ToList();

    private static readonly string Docs = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "diagnostics.md"));

    [TestMethod]
    public void EveryCode_IsMBAndFourDigits()
    {
        var bad = Codes.Where(c => !CodeShape().IsMatch(c.Code)).ToList();

        Assert.IsEmpty(bad, string.Join(", ", bad));
    }

    [TestMethod]
    public void EveryCode_NamesOneDistinctFailure()
    {
        var shared = Codes.GroupBy(c => c.Code).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}").ToList();

        Assert.IsEmpty(shared, string.Join("; ", shared));
    }

    [TestMethod]
    public void EveryCode_HasARowInTheDocs()
    {
        var documented = DocumentedCodes().ToHashSet();

        var missing = Codes.Where(c => !documented.Contains(c.Code)).Select(c => $"{c.Code} ({c.Name})").ToList();

        Assert.IsEmpty(missing, "not in docs/diagnostics.md: " + string.Join(", ", missing));
    }

    [TestMethod]
    public void EveryDocumentedCode_Exists()
    {
        var defined = Codes.Select(c => c.Code).ToHashSet();

        var stale = DocumentedCodes().Where(c => !defined.Contains(c)).ToList();

        Assert.IsEmpty(stale, "documented but not defined: " + string.Join(", ", stale));
    }

    [TestMethod]
    public void ExceptionMessage_StartsWithTheCodeAndNamesTheFile()
    {
        var e = new ModelBuildException(DiagnosticCodes.ElfNotElf, "not an ELF binary.", "x.dll");

        Assert.AreEqual("MB0001: x.dll: not an ELF binary.", e.Message);
        Assert.AreEqual("not an ELF binary.", e.Detail);
    }

    private static IEnumerable<string> DocumentedCodes() =>
        DocRow().Matches(Docs).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"^MB\d{4}$")]
    private static partial Regex CodeShape();

    [GeneratedRegex(@"^\| (MB\d{4}) \|", RegexOptions.Multiline)]
    private static partial Regex DocRow();
}
