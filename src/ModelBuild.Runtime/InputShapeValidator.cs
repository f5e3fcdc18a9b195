using System.Globalization;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;

namespace ModelBuild.Runtime;

/// <summary>
/// Checks inputs against the ranges an engine was compiled and validated for, before it runs: count, dtype, rank,
/// then binds symbols from plain-symbol dims, then from affine dims (<c>2*s27</c>, solved for the symbol), checks
/// every symbol's range, that every other dim equals its expression's value, and every relation. Errors name the
/// input, dim, symbol and range. Immutable and safe to share between threads.
/// </summary>
public sealed class InputShapeValidator
{
    private readonly EngineManifest _manifest;
    private readonly SymExpr?[][] _dims;
    private readonly (ManifestRelation Relation, SymExpr Expr)[] _relations;

    /// <summary>Prepares the checks of <paramref name="manifest"/>'s inputs, symbols and relations once.</summary>
    public InputShapeValidator(EngineManifest manifest)
    {
        _manifest = manifest;
        _dims = [.. manifest.Inputs.Select(i => i.Dims.Select(d => long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : SymExpr.Parse(d)).ToArray())];
        _relations = [.. manifest.Relations.Select(r => (r, SymExpr.Parse(r.Expr)))];
    }

    /// <summary>Throws a <see cref="ModelBuildException"/> (MB5xxx) when the inputs do not fit; returns the symbol values.</summary>
    public IReadOnlyDictionary<string, long> Validate(IReadOnlyList<(TensorDType DType, IReadOnlyList<long> Shape)> inputs)
    {
        var specs = _manifest.Inputs;
        if (inputs.Count != specs.Count)
        {
            throw Error(DiagnosticCodes.InputCountMismatch,
                $"the model takes {specs.Count} input{(specs.Count == 1 ? "" : "s")} ({string.Join(", ", specs.Select(s => $"'{s.Name}'"))}) but Run was given {inputs.Count}.");
        }
        for (var i = 0; i < specs.Count; i++)
        {
            if (inputs[i].DType.ToString() != specs[i].DType)
            {
                throw Error(DiagnosticCodes.InputDTypeMismatch, $"input '{specs[i].Name}' has dtype {inputs[i].DType}; the engine was compiled for {specs[i].DType}.");
            }
            if (inputs[i].Shape.Count != specs[i].Dims.Count)
            {
                throw Error(DiagnosticCodes.InputRankMismatch,
                    $"input '{specs[i].Name}' has {inputs[i].Shape.Count} dims [{string.Join(", ", inputs[i].Shape)}]; the engine expects {specs[i].Dims.Count} [{string.Join(", ", specs[i].Dims)}].");
            }
        }

        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        var boundBy = new Dictionary<string, string>(StringComparer.Ordinal);
        // Plain symbols first, so that an affine dim's symbol is checked against the value a plain dim gave it.
        foreach (var (i, d, expr, size) in Dims(inputs))
        {
            if (expr is null)
            {
                CheckStatic(specs[i], d, size);
            }
            else if (expr.Kind == SymExprKind.Symbol)
            {
                Bind(symbols, boundBy, specs[i].Name, d, expr.Name!, size, $"input '{specs[i].Name}' dim {d} (symbol {expr.Name}) = {size}");
            }
        }
        foreach (var (i, d, expr, size) in Dims(inputs))
        {
            if (expr is { Kind: not SymExprKind.Symbol, Symbols.Count: 1 } && !symbols.ContainsKey(expr.Symbols.First())
                && expr.TrySolveFor(size, out var symbol, out var value))
            {
                Bind(symbols, boundBy, specs[i].Name, d, symbol, value, $"input '{specs[i].Name}' dim {d} ({expr}) = {size} gives symbol {symbol} = {value}, which");
            }
        }
        for (var i = 0; i < specs.Count; i++)
        {
            for (var d = 0; d < specs[i].Dims.Count; d++)
            {
                if (_dims[i][d] is { } expr && expr.Kind != SymExprKind.Symbol)
                {
                    CheckDerived(specs[i], d, expr, inputs[i].Shape[d], symbols, boundBy);
                }
            }
        }
        foreach (var (relation, expr) in _relations)
        {
            if (!expr.Symbols.All(symbols.ContainsKey))
            {
                continue;
            }
            var value = expr.Evaluate(symbols);
            if (value < relation.Min || value > relation.Max)
            {
                throw Error(DiagnosticCodes.InputRelationViolated,
                    $"{relation.Expr} = {value} (with {Describe(expr, symbols)}) is outside the compiled range {relation.Min}..{relation.Max}.");
            }
        }
        return symbols;
    }

    private IEnumerable<(int Input, int Dim, SymExpr? Expr, long Size)> Dims(IReadOnlyList<(TensorDType DType, IReadOnlyList<long> Shape)> inputs) =>
        _dims.SelectMany((dims, i) => dims.Select((expr, d) => (i, d, expr, inputs[i].Shape[d])));

    private void Bind(Dictionary<string, long> symbols, Dictionary<string, string> boundBy, string input, int dim, string symbol, long value, string what)
    {
        if (symbols.TryGetValue(symbol, out var bound))
        {
            if (bound != value)
            {
                throw Error(DiagnosticCodes.InputDimMismatch,
                    $"input '{input}' dim {dim} needs symbol {symbol} = {value}, but {boundBy[symbol]} gave {symbol} = {bound}; the two must agree.");
            }
            return;
        }
        if (!_manifest.Symbols.TryGetValue(symbol, out var range))
        {
            throw Error(DiagnosticCodes.InputDimMismatch, $"input '{input}' dim {dim} uses symbol {symbol}, which the engine's manifest has no range for.");
        }
        if (value < range.Min || value > range.Max)
        {
            throw Error(DiagnosticCodes.InputDimOutOfRange, $"{what} is outside the compiled range {range.Min}..{range.Max}.");
        }
        symbols[symbol] = value;
        boundBy[symbol] = $"input '{input}' dim {dim}";
    }

    private static void CheckStatic(ManifestTensor spec, int dim, long size)
    {
        var expected = long.Parse(spec.Dims[dim], CultureInfo.InvariantCulture);
        if (size != expected)
        {
            throw Error(DiagnosticCodes.InputDimMismatch, $"input '{spec.Name}' dim {dim} = {size}; the engine was compiled for the static size {expected}.");
        }
    }

    private static void CheckDerived(ManifestTensor spec, int dim, SymExpr expr, long size, Dictionary<string, long> symbols, Dictionary<string, string> boundBy)
    {
        var unbound = expr.Symbols.Where(s => !symbols.ContainsKey(s)).ToList();
        if (unbound.Count > 0)
        {
            throw Error(DiagnosticCodes.InputDimMismatch,
                $"input '{spec.Name}' dim {dim} = {size} must equal {expr}, but no input dim determines {string.Join(", ", unbound)}" +
                (expr.Symbols.Count == 1 ? $": {size} is not a value {expr} takes for an integer {unbound[0]}." : "."));
        }
        var expected = expr.Evaluate(symbols);
        if (size != expected)
        {
            throw Error(DiagnosticCodes.InputDimMismatch,
                $"input '{spec.Name}' dim {dim} = {size} must equal {expr} = {expected} (with {Describe(expr, symbols)}, from {string.Join(", ", expr.Symbols.Order(StringComparer.Ordinal).Select(s => boundBy[s]))}).");
        }
    }

    private static string Describe(SymExpr expr, Dictionary<string, long> symbols) =>
        string.Join(", ", expr.Symbols.Order(StringComparer.Ordinal).Select(s => $"{s} = {symbols[s]}"));

    private static ModelBuildException Error(string code, string message) => new(code, message);
}
