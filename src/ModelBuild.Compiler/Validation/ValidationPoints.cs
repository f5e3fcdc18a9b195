using ModelBuild.Compiler.Shapes;
using ModelBuild.Engine.Symbolic;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// The symbol values the engine is validated at: every symbol at its min, at its opt, and at its max (derived dims
/// follow from them). A relation that such a point violates moves its symbol to the nearest value inside the relation.
/// A model without symbols has one point, <c>static</c>.
/// </summary>
public static class ValidationPoints
{
    public static IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> Of(ShapeRanges ranges)
    {
        if (ranges.Symbols.Count == 0)
        {
            return [("static", new Dictionary<string, long>())];
        }
        return
        [
            ("min", Fit(ranges, ranges.Symbols.ToDictionary(kv => kv.Key, kv => kv.Value.Min))),
            ("opt", Fit(ranges, ranges.Symbols.ToDictionary(kv => kv.Key, kv => kv.Value.Opt))),
            ("max", Fit(ranges, ranges.Symbols.ToDictionary(kv => kv.Key, kv => kv.Value.Max))),
        ];
    }

    private static Dictionary<string, long> Fit(ShapeRanges ranges, Dictionary<string, long> values)
    {
        foreach (var relation in ranges.Relations)
        {
            var expr = SymExpr.Parse(relation.Expr);
            if (!expr.Symbols.All(values.ContainsKey) || expr.Symbols.Count != 1)
            {
                continue;
            }
            var value = expr.Evaluate(values);
            if (value >= relation.Min && value <= relation.Max)
            {
                continue;
            }
            // Walk inward from the violated bound to the first value the expression takes for an integer symbol.
            var (from, step) = value < relation.Min ? (relation.Min, 1L) : (relation.Max, -1L);
            for (var v = from; v >= relation.Min && v <= relation.Max && Math.Abs(v - from) < 4096; v += step)
            {
                if (expr.TrySolveFor(v, out var symbol, out var solved) && ranges.Symbols[symbol] is var r && solved >= r.Min && solved <= r.Max)
                {
                    values[symbol] = solved;
                    break;
                }
            }
        }
        return values;
    }
}
