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
/// input, dim, symbol and range. Safe to share between threads: the one thing it changes is the signature it accepted
/// last, which it replaces as a whole.
/// </summary>
public sealed class InputShapeValidator
{
    private readonly EngineManifest _manifest;
    private readonly SymExpr?[][] _dims;
    // Parsed once: Validate runs before every Run, so it parses and formats nothing unless it fails.
    private readonly long?[][] _static;
    private readonly TensorDType?[] _dtypes;
    private readonly (ManifestRelation Relation, SymExpr Expr)[] _relations;
    private readonly bool _allStatic;
    private static readonly IReadOnlyDictionary<string, long> NoSymbols = new Dictionary<string, long>();
    // The check is a function of dtypes and shapes alone, and an app usually runs one shape after another: the last
    // signature that passed is remembered, so the next run of the same shapes costs a comparison (microseconds otherwise).
    private volatile Accepted? _last;

    /// <summary>Prepares the checks of <paramref name="manifest"/>'s inputs, symbols and relations once.</summary>
    public InputShapeValidator(EngineManifest manifest)
    {
        _manifest = manifest;
        _dims = [.. manifest.Inputs.Select(i => i.Dims.Select(d => long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : SymExpr.Parse(d)).ToArray())];
        _static = [.. manifest.Inputs.Select(i => i.Dims.Select(d => long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (long?)null).ToArray())];
        _dtypes = [.. manifest.Inputs.Select(i => TensorDTypes.TryParse(i.DType, out var t) ? t : (TensorDType?)null)];
        _relations = [.. manifest.Relations.Select(r => (r, SymExpr.Parse(r.Expr)))];
        _allStatic = _static.All(dims => dims.All(d => d is not null)) && _relations.Length == 0;
    }

    /// <summary>Throws a <see cref="ModelBuildException"/> (MB5xxx) when the inputs do not fit; returns the symbol values.</summary>
    public IReadOnlyDictionary<string, long> Validate(IReadOnlyList<(TensorDType DType, IReadOnlyList<long> Shape)> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_last is { } last && last.Matches(inputs))
        {
            return last.Symbols;
        }
        var symbols = Check(inputs);
        _last = new Accepted([.. inputs.Select(i => i.DType)], [.. inputs.Select(i => i.Shape.ToArray())], symbols);
        return symbols;
    }

    private IReadOnlyDictionary<string, long> Check(IReadOnlyList<(TensorDType DType, IReadOnlyList<long> Shape)> inputs)
    {
        var specs = _manifest.Inputs;
        if (inputs.Count != specs.Count)
        {
            throw Error(DiagnosticCodes.InputCountMismatch,
                $"the model takes {specs.Count} input{(specs.Count == 1 ? "" : "s")} ({string.Join(", ", specs.Select(s => $"'{s.Name}'"))}) but Run was given {inputs.Count}.");
        }
        for (var i = 0; i < specs.Count; i++)
        {
            if (inputs[i].DType != _dtypes[i])
            {
                throw Error(DiagnosticCodes.InputDTypeMismatch, $"input '{specs[i].Name}' has dtype {inputs[i].DType}; the engine was compiled for {specs[i].DType}.");
            }
            if (inputs[i].Shape.Count != specs[i].Dims.Count)
            {
                throw Error(DiagnosticCodes.InputRankMismatch,
                    $"input '{specs[i].Name}' has {inputs[i].Shape.Count} dims [{string.Join(", ", inputs[i].Shape)}]; the engine expects {specs[i].Dims.Count} [{string.Join(", ", specs[i].Dims)}].");
            }
        }

        if (_allStatic)
        {
            // Nothing to bind.
            for (var i = 0; i < specs.Count; i++)
            {
                for (var d = 0; d < _static[i].Length; d++)
                {
                    CheckStatic(specs[i], d, inputs[i].Shape[d], _static[i][d]!.Value);
                }
            }
            return NoSymbols;
        }
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        var boundBy = new Dictionary<string, (int Input, int Dim)>(StringComparer.Ordinal);
        // Plain symbols first, so that an affine dim's symbol is checked against the value a plain dim gave it.
        for (var i = 0; i < _dims.Length; i++)
        {
            for (var d = 0; d < _dims[i].Length; d++)
            {
                var (expr, size) = (_dims[i][d], inputs[i].Shape[d]);
                if (expr is null)
                {
                    CheckStatic(specs[i], d, size, _static[i][d]!.Value);
                }
                else if (expr.Kind == SymExprKind.Symbol)
                {
                    Bind(symbols, boundBy, i, d, expr.Name!, size, () => $"input '{specs[i].Name}' dim {d} (symbol {expr.Name}) = {size}");
                }
            }
        }
        for (var i = 0; i < _dims.Length; i++)
        {
            for (var d = 0; d < _dims[i].Length; d++)
            {
                var (expr, size) = (_dims[i][d], inputs[i].Shape[d]);
                if (expr is { Kind: not SymExprKind.Symbol, Symbols.Count: 1 } && !symbols.ContainsKey(expr.Symbols.First())
                    && expr.TrySolveFor(size, out var symbol, out var value))
                {
                    Bind(symbols, boundBy, i, d, symbol, value, () => $"input '{specs[i].Name}' dim {d} ({expr}) = {size} gives symbol {symbol} = {value}, which");
                }
            }
        }
        for (var i = 0; i < specs.Count; i++)
        {
            for (var d = 0; d < specs[i].Dims.Count; d++)
            {
                if (_dims[i][d] is { } expr && expr.Kind != SymExprKind.Symbol)
                {
                    CheckDerived(specs[i], d, expr, inputs[i].Shape[d], symbols, boundBy, BoundBy);
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

    private void Bind(Dictionary<string, long> symbols, Dictionary<string, (int Input, int Dim)> boundBy, int input, int dim, string symbol, long value, Func<string> what)
    {
        var name = _manifest.Inputs[input].Name;
        if (symbols.TryGetValue(symbol, out var bound))
        {
            if (bound != value)
            {
                throw Error(DiagnosticCodes.InputDimMismatch,
                    $"input '{name}' dim {dim} needs symbol {symbol} = {value}, but {BoundBy(boundBy[symbol])} gave {symbol} = {bound}; the two must agree.");
            }
            return;
        }
        if (!_manifest.Symbols.TryGetValue(symbol, out var range))
        {
            throw Error(DiagnosticCodes.InputDimMismatch, $"input '{name}' dim {dim} uses symbol {symbol}, which the engine's manifest has no range for.");
        }
        if (value < range.Min || value > range.Max)
        {
            throw Error(DiagnosticCodes.InputDimOutOfRange, $"{what()} is outside the compiled range {range.Min}..{range.Max}.");
        }
        symbols[symbol] = value;
        boundBy[symbol] = (input, dim);
    }

    private string BoundBy((int Input, int Dim) where) => $"input '{_manifest.Inputs[where.Input].Name}' dim {where.Dim}";

    private static void CheckStatic(ManifestTensor spec, int dim, long size, long expected)
    {
        if (size != expected)
        {
            throw Error(DiagnosticCodes.InputDimMismatch, $"input '{spec.Name}' dim {dim} = {size}; the engine was compiled for the static size {expected}.");
        }
    }

    private static void CheckDerived(ManifestTensor spec, int dim, SymExpr expr, long size, Dictionary<string, long> symbols,
        Dictionary<string, (int Input, int Dim)> boundBy, Func<(int, int), string> describe)
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
                $"input '{spec.Name}' dim {dim} = {size} must equal {expr} = {expected} (with {Describe(expr, symbols)}, from {string.Join(", ", expr.Symbols.Order(StringComparer.Ordinal).Select(s => describe(boundBy[s])))}).");
        }
    }

    private static string Describe(SymExpr expr, Dictionary<string, long> symbols) =>
        string.Join(", ", expr.Symbols.Order(StringComparer.Ordinal).Select(s => $"{s} = {symbols[s]}"));

    private static ModelBuildException Error(string code, string message) => new(code, message);

    /// <summary>Dtypes and shapes (copied: a caller's shape list may change) that passed, and the symbols they bound.</summary>
    private sealed class Accepted(TensorDType[] dtypes, long[][] shapes, IReadOnlyDictionary<string, long> symbols)
    {
        public IReadOnlyDictionary<string, long> Symbols { get; } = symbols;

        public bool Matches(IReadOnlyList<(TensorDType DType, IReadOnlyList<long> Shape)> inputs)
        {
            if (inputs.Count != dtypes.Length)
            {
                return false;
            }
            for (var i = 0; i < dtypes.Length; i++)
            {
                var (dtype, shape) = inputs[i];
                if (dtype != dtypes[i] || shape.Count != shapes[i].Length)
                {
                    return false;
                }
                for (var d = 0; d < shape.Count; d++)
                {
                    if (shape[d] != shapes[i][d])
                    {
                        return false;
                    }
                }
            }
            return true;
        }
    }
}
