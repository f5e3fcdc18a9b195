using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Symbolic;

namespace ModelBuild.Compiler.Shapes;

/// <summary>
/// The compiled ranges: the archive's range of every symbol that an input dim uses, narrowed (never widened) by
/// <c>--shape</c> options. <c>opt</c> is the option's, else the example input's size, else the min. An unbounded
/// symbol needs an option. Relations are carried as the archive states them.
/// </summary>
public static class ShapeRangeResolver
{
    public static ShapeRanges Resolve(ModelGraph graph, IReadOnlyList<ShapeOption> options, string file)
    {
        var uses = SymbolUses(graph);
        var ranges = new Dictionary<string, (long Min, long? Opt, long? Max)>(StringComparer.Ordinal);
        foreach (var (symbol, _) in uses)
        {
            var archive = graph.Symbols.TryGetValue(symbol, out var r) ? r : new SymbolRange(0, null);
            ranges[symbol] = (archive.Min, null, archive.Max);
        }

        var narrowedBy = new Dictionary<string, ShapeOption>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            var (symbol, min, opt, max) = SolveOption(graph, option, file);
            if (symbol is null)
            {
                continue;
            }
            if (narrowedBy.TryGetValue(symbol, out var earlier))
            {
                throw new ModelBuildException(DiagnosticCodes.ShapeRangeConflict,
                    $"--shape {earlier} and --shape {option} both set the range of symbol {symbol}; give it once.", file);
            }
            narrowedBy[symbol] = option;
            var archive = graph.Symbols.TryGetValue(symbol, out var r) ? r : new SymbolRange(0, null);
            if (min < archive.Min || (archive.Max is { } amax && max > amax))
            {
                throw new ModelBuildException(DiagnosticCodes.ShapeRangeWidened,
                    $"--shape {option} sets symbol {symbol} to {min}..{max}, which widens the range {archive.Min}..{archive.Max?.ToString() ?? "unbounded"} the model was exported with; "
                    + "an engine is only valid inside the exported range. Narrow it, or export the model with a wider Dim range.", file);
            }
            ranges[symbol] = (min, opt, max);
        }

        var symbols = new Dictionary<string, ManifestSymbol>(StringComparer.Ordinal);
        foreach (var (symbol, (min, opt, max)) in ranges)
        {
            var (input, dim) = uses[symbol];
            if (max is null)
            {
                var range = $"{input}:{dim}={min}..<opt>..<max>";
                throw new ModelBuildException(DiagnosticCodes.ShapeRangeUnbounded,
                    $"input '{input}' dim {dim} (symbol {symbol}) has no upper bound in the model (its range is {min}..int_oo, as Dim.AUTO or a Dim without max exports it), "
                    + $"and an engine is validated at the max of every range: give the range to compile for, with modelc compile --shape {range}, "
                    + $"or in the project with the item metadata <ModelCompile Include=\"...\" Shapes=\"{range}\" /> (entries separated by ';').", file);
            }
            var chosen = opt ?? ExampleValue(graph, symbol) ?? min;
            symbols[symbol] = new ManifestSymbol(min, Math.Clamp(chosen, min, max.Value), max.Value);
        }
        var relations = graph.Relations.Select(r => new ManifestRelation(r.Expr, r.Min, r.Max ?? long.MaxValue)).ToList();
        return new ShapeRanges(symbols, relations);
    }

    /// <summary>Every symbol an input dim uses, with the first input dim that uses it.</summary>
    private static Dictionary<string, (string Input, int Dim)> SymbolUses(ModelGraph graph)
    {
        var uses = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            for (var d = 0; d < input.Meta.Rank; d++)
            {
                if (input.Meta.Sizes[d].Expr is { } e)
                {
                    foreach (var s in SymExpr.Parse(e).Symbols.Order(StringComparer.Ordinal))
                    {
                        uses.TryAdd(s, (input.Name, d));
                    }
                }
            }
        }
        return uses;
    }

    /// <summary>The symbol an option ranges over, and the option's values solved for it; no symbol for a static dim it matches.</summary>
    private static (string? Symbol, long Min, long? Opt, long Max) SolveOption(ModelGraph graph, ShapeOption option, string file)
    {
        var input = graph.Inputs.FirstOrDefault(i => i.Name == option.Input) ?? throw new ModelBuildException(DiagnosticCodes.ShapeOptionUnknownDim,
            $"--shape {option} names input '{option.Input}', but the model's inputs are {string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}'"))}.", file);
        if (option.Dim >= input.Meta.Rank)
        {
            throw new ModelBuildException(DiagnosticCodes.ShapeOptionUnknownDim,
                $"--shape {option} names dim {option.Dim}, but input '{input.Name}' has {input.Meta.Rank} dims [{string.Join(", ", input.Meta.Sizes)}].", file);
        }
        var size = input.Meta.Sizes[option.Dim];
        if (size.Value is { } fixedSize)
        {
            return option.Min == fixedSize && option.Max == fixedSize ? (null, 0, null, 0)
                : throw new ModelBuildException(DiagnosticCodes.ShapeOptionNotSymbolic,
                    $"--shape {option}: input '{input.Name}' dim {option.Dim} is static ({fixedSize}) in the model; it cannot take a range.", file);
        }
        var expr = SymExpr.Parse(size.Expr!);
        if (expr.Kind == SymExprKind.Symbol)
        {
            return (expr.Name, option.Min, option.Opt, option.Max);
        }
        if (expr.TrySolveFor(option.Min, out var symbol, out var min) && expr.TrySolveFor(option.Max, out _, out var max))
        {
            long? opt = null;
            if (option.Opt is { } o)
            {
                opt = expr.TrySolveFor(o, out _, out var so) ? so : throw NotSolvable(o);
            }
            return (symbol, Math.Min(min, max), opt, Math.Max(min, max));
        }
        throw NotSolvable(expr.TrySolveFor(option.Min, out _, out _) ? option.Max : option.Min);

        ModelBuildException NotSolvable(long value) => new(DiagnosticCodes.ShapeOptionNotSymbolic,
            $"--shape {option}: input '{input.Name}' dim {option.Dim} is {expr}, which never equals {value}; give sizes it takes, or range its symbol through another input.", file);
    }

    private static long? ExampleValue(ModelGraph graph, string symbol)
    {
        if (graph.ExampleInputShapes is not { } examples)
        {
            return null;
        }
        for (var i = 0; i < graph.Inputs.Count && i < examples.Count; i++)
        {
            var sizes = graph.Inputs[i].Meta.Sizes;
            for (var d = 0; d < sizes.Count && d < examples[i].Count; d++)
            {
                if (sizes[d].Expr is not { } e || SymExpr.Parse(e) is not { } expr || !expr.Symbols.Contains(symbol))
                {
                    continue;
                }
                if (expr.Kind == SymExprKind.Symbol)
                {
                    return examples[i][d];
                }
                if (expr.TrySolveFor(examples[i][d], out _, out var value))
                {
                    return value;
                }
            }
        }
        return null;
    }
}
