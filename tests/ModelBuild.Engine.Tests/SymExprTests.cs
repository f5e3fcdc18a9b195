using System.IO.Compression;
using System.Text.Json;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Tests;

namespace ModelBuild.Engine.Tests;

[TestClass]
public sealed class SymExprTests
{
    private static readonly Dictionary<string, long> NoSymbols = [];

    public static IEnumerable<object[]> ProgramFiles =>
        TestPaths.AllModels.SelectMany(m => new[] { "model.pt2", "model.core.pt2", "model.legacy.pt2" }.Select(f => new object[] { m[0], f }));

    [TestMethod]
    [DynamicData(nameof(ProgramFiles))]
    public void EveryExpressionOfAProgram_ParsesRoundTripsAndEvaluatesToItsHint(string model, string file)
    {
        using var zip = ZipFile.OpenRead(TestPaths.Fixture(model, file));
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("/models/model.json", StringComparison.Ordinal) || e.FullName == "serialized_exported_program.json");
        using var doc = JsonDocument.Parse(entry.Open());
        var withHints = new List<(string Text, long? Hint)>();
        Collect(doc.RootElement.GetProperty("graph_module"), withHints);
        var keys = doc.RootElement.GetProperty("range_constraints").EnumerateObject().Select(p => p.Name).ToList();

        var parsed = withHints.Select(x => (Expr: SymExpr.Parse(x.Text), x.Hint)).ToList();
        var symbols = new Dictionary<string, long>();
        foreach (var (expr, hint) in parsed)
        {
            if (hint.HasValue && expr.TrySolveFor(hint.Value, out var symbol, out var value))
            {
                symbols[symbol] = value;
            }
        }
        foreach (var (expr, hint) in parsed)
        {
            Assert.AreEqual(expr, SymExpr.Parse(expr.ToString()), $"round trip of {expr}");
            Assert.IsTrue(expr.Symbols.All(symbols.ContainsKey), $"{expr} mentions a symbol without a hint");
            if (hint.HasValue)
            {
                Assert.AreEqual(hint.Value, expr.Evaluate(symbols), $"value of {expr}");
            }
        }
        foreach (var key in keys)
        {
            var expr = SymExpr.Parse(key);
            Assert.AreEqual(key, expr.ToString(), "range constraint keys are already in PyTorch's str form");
            Assert.IsTrue(expr.Symbols.Count > 0);
        }
        Assert.AreEqual(model == "seed_linear_static", withHints.Count == 0);
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void FixtureRangeConstraintKeys_ParseToTheirOwnText_AndHoldAtTheRangeEnds(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(model, "fixture.json")));
        var constraints = doc.RootElement.GetProperty("range_constraints").EnumerateObject().ToList();
        var plain = constraints.Where(c => SymExpr.Parse(c.Name).Kind == SymExprKind.Symbol).ToList();
        foreach (var end in new[] { "min", "max" })
        {
            var values = plain.ToDictionary(c => c.Name, c => c.Value.GetProperty(end).GetInt64());
            foreach (var c in constraints)
            {
                var expr = SymExpr.Parse(c.Name);
                Assert.AreEqual(c.Name, expr.ToString());
                Assert.AreEqual(c.Value.GetProperty(end).GetInt64(), expr.Evaluate(values), $"{c.Name} at {end}");
            }
        }
    }

    [TestMethod]
    [DataRow("Symbol('s31', positive=True, integer=True)", "s31")]
    [DataRow("Mul(Integer(8), Symbol('s69', positive=True, integer=True))", "8*s69")]
    [DataRow("Add(FloorDiv(Add(Symbol('s53', positive=True, integer=True), Integer(-5)), Integer(3)), Integer(1))", "((s53 - 5)//3) + 1")]
    [DataRow("Max(Integer(1), Add(FloorDiv(Add(Symbol('s53', positive=True, integer=True), Integer(-5)), Integer(3)), Integer(1)))", "Max(1, ((s53 - 5)//3) + 1)")]
    [DataRow("Mul(Integer(4), Pow(Symbol('s27', positive=True, integer=True), Integer(2)))", "4*s27**2")]
    [DataRow("((s0 - 5)//3) + 1", "((s0 - 5)//3) + 1")]
    [DataRow("2*s27", "2*s27")]
    [DataRow("s27*2", "2*s27")]
    [DataRow("Max(s0, 1)", "Max(1, s0)")]
    [DataRow("Min(8, 8*s27)", "Min(8, 8*s27)")]
    [DataRow("s1*s0", "s0*s1")]
    [DataRow("-s0 + 3", "3 - s0")]
    [DataRow("2*(s0 + 1)", "2*s0 + 2")]
    [DataRow("s0 + s0", "2*s0")]
    [DataRow("s0 % 4", "(s0 % 4)")]
    [DataRow("PythonMod(s0, 4)", "(s0 % 4)")]
    [DataRow("CeilToInt(IntTrueDiv(s0, 2))", "CeilDiv(s0, 2)")]
    [DataRow("(s0 + 1)**2", "(s0 + 1)**2")]
    [DataRow("-2**2", "-4")]
    public void Parse_ReadsBothForms_IntoTheCanonicalStrForm(string text, string canonical)
    {
        var expr = SymExpr.Parse(text);

        Assert.AreEqual(canonical, expr.ToString());
        Assert.AreEqual(expr, SymExpr.Parse(canonical));
        Assert.AreEqual(expr.GetHashCode(), SymExpr.Parse(canonical).GetHashCode());
    }

    [TestMethod]
    [DataRow("-7//2", -4L)]
    [DataRow("7//-2", -4L)]
    [DataRow("-7 % 3", 2L)]
    [DataRow("7 % -3", -2L)]
    [DataRow("CeilDiv(7, 2)", 4L)]
    [DataRow("CeilDiv(-7, 2)", -3L)]
    [DataRow("2**10 - 1", 1023L)]
    [DataRow("Max(1, ((3 - 5)//3) + 1)", 1L)]
    [DataRow("(-1)**63", -1L)]
    public void Evaluate_UsesPythonIntegerSemantics(string text, long expected) =>
        Assert.AreEqual(expected, SymExpr.Parse(text).Evaluate(NoSymbols));

    [TestMethod]
    public void Evaluate_BindsSymbols()
    {
        var expr = SymExpr.Parse("Max(1, ((s53 - 5)//3) + 1)");

        Assert.AreEqual(16, expr.Evaluate(new Dictionary<string, long> { ["s53"] = 50 }));
        Assert.AreEqual(1, expr.Evaluate(new Dictionary<string, long> { ["s53"] = 6 }));
        CollectionAssert.AreEquivalent(new[] { "s53" }, expr.Symbols.ToArray());
    }

    [TestMethod]
    [DataRow("s0", "s0", 40L)]
    [DataRow("8*s69", "s69", 5L)]
    [DataRow("2*s27 + 2", "s27", 19L)]
    [DataRow("3 - s0", "s0", -37L)]
    public void TrySolveFor_FindsTheSymbolOfAnAffineExpression(string text, string symbol, long symbolValue)
    {
        Assert.IsTrue(SymExpr.Parse(text).TrySolveFor(40, out var s, out var v));
        Assert.AreEqual(symbol, s);
        Assert.AreEqual(symbolValue, v);
    }

    [TestMethod]
    [DataRow("8*s69", 41L)]
    [DataRow("s0*s1", 6L)]
    [DataRow("(s0//2)", 6L)]
    [DataRow("s0 - s0 + 4", 4L)]
    [DataRow("s0**2", 4L)]
    [DataRow("Max(1, s0)", 4L)]
    [DataRow("5", 5L)]
    public void TrySolveFor_RefusesWhatItCannotSolveExactly(string text, long value) =>
        Assert.IsFalse(SymExpr.Parse(text).TrySolveFor(value, out _, out _));

    [TestMethod]
    [DataRow("", DiagnosticCodes.SymExprSyntax)]
    [DataRow("s0 +", DiagnosticCodes.SymExprSyntax)]
    [DataRow("(s0", DiagnosticCodes.SymExprSyntax)]
    [DataRow("s0)", DiagnosticCodes.SymExprSyntax)]
    [DataRow("s0 / 2", DiagnosticCodes.SymExprSyntax)]
    [DataRow("Symbol('s0", DiagnosticCodes.SymExprSyntax)]
    [DataRow("s0 $ 1", DiagnosticCodes.SymExprSyntax)]
    [DataRow("Max(,)", DiagnosticCodes.SymExprSyntax)]
    [DataRow("Rational(1, 2)", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("s0**s1", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("s0**-1", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("int_oo", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("99999999999999999999", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("Pow(s0)", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("Symbol(1)", DiagnosticCodes.SymExprUnsupported)]
    [DataRow("2**64", DiagnosticCodes.SymExprArithmetic)]
    [DataRow("1//0", DiagnosticCodes.SymExprArithmetic)]
    public void Parse_RejectsBadInput_WithACode(string text, string code)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => SymExpr.Parse(text).Evaluate(NoSymbols));
        Assert.AreEqual(code, e.Code);
    }

    [TestMethod]
    public void Parse_RefusesDeepNesting_WithoutOverflowingTheStack()
    {
        var deep = new string('(', 100_000 / 2 - 10) + "s0" + new string(')', 100_000 / 2 - 10);
        var e = Assert.ThrowsExactly<ModelBuildException>(() => SymExpr.Parse(deep[..60_000]));
        Assert.AreEqual(DiagnosticCodes.SymExprUnsupported, e.Code);

        var longText = string.Join(" + ", Enumerable.Range(0, 20_000).Select(i => $"s{i}"));
        Assert.AreEqual(DiagnosticCodes.SymExprUnsupported, Assert.ThrowsExactly<ModelBuildException>(() => SymExpr.Parse(longText)).Code);
    }

    [TestMethod]
    public void Evaluate_NamesAMissingSymbol()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => SymExpr.Parse("8*s69").Evaluate(NoSymbols));
        Assert.AreEqual(DiagnosticCodes.SymExprUnboundSymbol, e.Code);
        StringAssert.Contains(e.Message, "s69");
    }

    [TestMethod]
    public void Evaluate_ReportsOverflow()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() =>
            SymExpr.Parse("s0*s0").Evaluate(new Dictionary<string, long> { ["s0"] = long.MaxValue / 2 }));
        Assert.AreEqual(DiagnosticCodes.SymExprArithmetic, e.Code);
    }

    [TestMethod]
    [DataRow(" + ")]
    [DataRow("*")]
    public void Parse_ALongSumOrProduct_TakesLinearTime(string op)
    {
        var text = string.Join(op, Enumerable.Range(0, 8000).Select(i => $"s{i}"));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var expr = SymExpr.Parse(text);

        Assert.HasCount(8000, expr.Symbols);
        Assert.IsLessThan(TimeSpan.FromSeconds(5), clock.Elapsed, "folding pairwise re-sorts the whole sum at each operator");
    }

    private static void Collect(JsonElement e, List<(string, long?)> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name == "as_expr")
                    {
                        long? hint = p.Value.TryGetProperty("hint", out var h) && h.ValueKind == JsonValueKind.Object &&
                            h.TryGetProperty("as_int", out var i) ? i.GetInt64() : null;
                        into.Add((p.Value.GetProperty("expr_str").GetString()!, hint));
                    }
                    else
                    {
                        Collect(p.Value, into);
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                {
                    Collect(item, into);
                }
                break;
        }
    }
}
