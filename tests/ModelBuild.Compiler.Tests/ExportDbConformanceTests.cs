using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// PyTorch's ExportDB as a conformance suite: every example tests/fixtures/exportdb holds (the SUPPORTED examples whose
/// inputs are tensors) compiles and reproduces PyTorch's outputs, and docs/exportdb.md lists every example with its
/// status, as this test finds it (<c>MODELBUILD_WRITE_DOCS=1</c> rewrites the page).
/// </summary>
[TestClass]
public sealed class ExportDbConformanceTests
{
    private static readonly ConcurrentDictionary<string, Lazy<Outcome>> Outcomes = new();

    public static IEnumerable<object[]> Examples => Directory.GetDirectories(TestPaths.ExportDbFixtures)
        .Where(d => File.Exists(Path.Combine(d, "model.pt2"))).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    [TestMethod]
    [DynamicData(nameof(Examples))]
    public void Example_CompilesAndReproducesPyTorch(string example)
    {
        var outcome = OutcomeOf(example);

        Assert.IsNull(outcome.Failure, outcome.Failure);
        var cases = CasesFile.Read(SafetensorsFile.Read(Path.Combine(TestPaths.ExportDbFixtures, example, "cases.safetensors")), "cases");
        CollectionAssert.IsSubsetOf(cases.Select(c => c.Name).ToList(), outcome.Engine!.Manifest.Validation.Where(v => v.ComparedWith == "cases").Select(v => v.Name).ToList());
    }

    [TestMethod]
    public void Docs_ListEveryExampleWithItsStatus()
    {
        var page = Path.Combine(TestPaths.RepoRoot, "docs", "exportdb.md");
        var expected = Render();
        if (Environment.GetEnvironmentVariable("MODELBUILD_WRITE_DOCS") == "1")
        {
            File.WriteAllText(page, expected);
        }

        Assert.AreEqual(expected, File.ReadAllText(page), "docs/exportdb.md is not what the suite finds: run this test with MODELBUILD_WRITE_DOCS=1 to rewrite it");
    }

    /// <summary>An example compiled, or why it does not compile.</summary>
    private sealed record Outcome(CompiledEngine? Engine, string? Failure, IReadOnlyList<ShapeOption> Shapes);

    private static Outcome OutcomeOf(string example) => Outcomes.GetOrAdd(example, e => new Lazy<Outcome>(() =>
    {
        var folder = Path.Combine(TestPaths.ExportDbFixtures, e);
        var model = Path.Combine(folder, "model.pt2");
        var cases = Path.Combine(folder, "cases.safetensors");
        var shapes = new List<ShapeOption>();
        try
        {
            shapes.AddRange(ShapesForUnboundedDims(model, cases));
            return new Outcome(ModelCompiler.Compile(new CompileOptions(model) { Name = e, CasesPath = cases, Shapes = shapes }), null, shapes);
        }
        catch (ModelBuildException failure)
        {
            return new Outcome(null, failure.Message.Replace(folder + Path.DirectorySeparatorChar, "", StringComparison.Ordinal), shapes);
        }
    })).Value;

    /// <summary>
    /// A dim exported without an upper bound compiles only with one: the suite gives it its min, the largest size the cases
    /// use as opt, and twice that as max.
    /// </summary>
    private static IEnumerable<ShapeOption> ShapesForUnboundedDims(string model, string casesPath)
    {
        var graph = ModelReader.Read(model);
        var cases = SafetensorsFile.Read(casesPath);
        var caseList = CasesFile.Read(cases, casesPath);
        for (var i = 0; i < graph.Inputs.Count; i++)
        {
            var sizes = graph.Inputs[i].Meta.Sizes;
            for (var d = 0; d < sizes.Count; d++)
            {
                if (sizes[d].Expr is { } symbol && graph.Symbols.TryGetValue(symbol, out var range) && range.Max is null)
                {
                    var largest = caseList.Max(c => cases.Tensors[c.Inputs[i]].Shape[d]);
                    yield return new ShapeOption(graph.Inputs[i].Name, d, range.Min, largest, 2 * largest);
                }
            }
        }
    }

    private static string Render()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ExportDbFixtures, "index.json")));
        var examples = index.RootElement.GetProperty("examples").EnumerateArray().ToList();
        var inSuite = Examples.Select(e => (string)e[0]).ToHashSet(StringComparer.Ordinal);
        var rows = examples.Select(e =>
        {
            var name = e.GetProperty("name").GetString()!;
            var level = e.TryGetProperty("support_level", out var l) ? l.GetString()! : "";
            return (Name: name, Level: level, Status: inSuite.Contains(name) ? Status(OutcomeOf(name)) : $"not in the suite: {e.GetProperty("reason").GetString()}");
        }).ToList();
        var passing = rows.Count(r => r.Status.StartsWith("compiles", StringComparison.Ordinal));
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# ExportDB conformance");
        sb.AppendLine();
        sb.AppendLine("PyTorch's ExportDB (`torch._export.db.examples`) is the catalogue of what `torch.export` supports. `eng/fixtures/make_exportdb.py`");
        sb.AppendLine("exports every SUPPORTED example whose inputs are tensors into `tests/fixtures/exportdb/` (with PyTorch's outputs as cases), and");
        sb.AppendLine("`ExportDbConformanceTests` compiles each one, validates it at min/opt/max against the reference and at every case against");
        sb.AppendLine("PyTorch. A dim exported without an upper bound is compiled with its min, the largest size the cases use as opt, and twice");
        sb.AppendLine("that as max. This page is written by that test (`MODELBUILD_WRITE_DOCS=1 dotnet test tests/ModelBuild.Compiler.Tests");
        sb.AppendLine("--filter ExportDb`), which fails while it differs from what the suite finds.");
        sb.AppendLine();
        sb.AppendLine(ci, $"{index.RootElement.GetProperty("torch_version").GetString()}: {passing} of {rows.Count} examples compile and reproduce PyTorch; the others are listed with the reason.");
        sb.AppendLine();
        sb.AppendLine("| example | support level | status |");
        sb.AppendLine("| --- | --- | --- |");
        foreach (var (name, level, status) in rows)
        {
            sb.AppendLine(ci, $"| `{name}` | {level} | {status.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
        return sb.ToString();
    }

    private static string Status(Outcome outcome)
    {
        if (outcome.Failure is { } failure)
        {
            return $"fails: {failure}";
        }
        var validation = outcome.Engine!.Manifest.Validation;
        var shapes = outcome.Shapes.Count == 0 ? "" : $" (unbounded in the archive: {string.Join(", ", outcome.Shapes.Select(s => $"`--shape {s}`"))})";
        var points = validation.Count(v => v.ComparedWith == "reference");
        var cases = validation.Count(v => v.ComparedWith == "cases");
        return $"compiles, matches the reference at {points} point{(points == 1 ? "" : "s")} and PyTorch at {cases} case{(cases == 1 ? "" : "s")}{shapes}";
    }
}
