using System.Globalization;
using System.Text;
using ModelBuild.Diagnostics;

namespace ModelBuild.Engine.Symbolic;

/// <summary>The node kinds of a <see cref="SymExpr"/>.</summary>
public enum SymExprKind
{
    /// <summary>A constant (<see cref="SymExpr.Value"/>).</summary>
    Integer,
    /// <summary>A positive integer symbol (<see cref="SymExpr.Name"/>, e.g. <c>s77</c>).</summary>
    Symbol,
    /// <summary>A sum of the operands.</summary>
    Add,
    /// <summary>A product of the operands.</summary>
    Mul,
    /// <summary>Floor division (Python's <c>//</c>) of two operands.</summary>
    FloorDiv,
    /// <summary>Python's modulo (the sign of the divisor) of two operands.</summary>
    Mod,
    /// <summary>Ceiling division of two operands.</summary>
    CeilDiv,
    /// <summary>The largest operand.</summary>
    Max,
    /// <summary>The smallest operand.</summary>
    Min,
    /// <summary>The first operand to the power of the second, a non-negative integer.</summary>
    Pow,
}

/// <summary>
/// An integer size expression as torch.export writes them (SymPy over positive integer symbols): constants, symbols,
/// sums, products, floor and ceiling division, Python modulo, Max, Min and integer powers. Immutable and normalized on
/// construction (nested sums and products flattened, constants folded, like terms combined, operands ordered), so two
/// expressions that differ only in such ways are equal. <see cref="ToString"/> gives PyTorch's str form
/// (<c>8*s69</c>, <c>((s53 - 5)//3) + 1</c>), which <see cref="Parse"/> reads back.
/// </summary>
public sealed class SymExpr : IEquatable<SymExpr>
{
    private static readonly SymExpr[] NoArgs = [];
    private readonly int _hash;
    private IReadOnlySet<string>? _symbols;
    private string? _text;

    private SymExpr(SymExprKind kind, long value, string? name, SymExpr[] args)
    {
        Kind = kind;
        Value = value;
        Name = name;
        Args = args;
        var hash = new HashCode();
        hash.Add(kind);
        hash.Add(value);
        hash.Add(name);
        foreach (var a in args)
        {
            hash.Add(a._hash);
        }
        _hash = hash.ToHashCode();
    }

    /// <summary>What kind of node this is; <see cref="Args"/> holds its operands.</summary>
    public SymExprKind Kind { get; }

    /// <summary>The constant of an <see cref="SymExprKind.Integer"/>.</summary>
    public long Value { get; }

    /// <summary>The name of a <see cref="SymExprKind.Symbol"/>.</summary>
    public string? Name { get; }

    /// <summary>Operands: terms, factors, (dividend, divisor), (base, exponent).</summary>
    public IReadOnlyList<SymExpr> Args { get; }

    /// <summary>Whether the expression is a constant.</summary>
    public bool IsInteger => Kind == SymExprKind.Integer;

    /// <summary>Every symbol the expression mentions.</summary>
    public IReadOnlySet<string> Symbols => _symbols ??= CollectSymbols();

    /// <summary>Parses the SymPy <c>srepr</c> form or the <c>str</c> form; throws MB1001/MB1002 on anything else.</summary>
    public static SymExpr Parse(string text) => SymExprParser.Parse(text);

    /// <summary>The constant <paramref name="value"/>.</summary>
    public static SymExpr Integer(long value) => new(SymExprKind.Integer, value, null, NoArgs);

    /// <summary>The symbol <paramref name="name"/>.</summary>
    public static SymExpr Symbol(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(SymExprKind.Symbol, 0, name, NoArgs);
    }

    /// <summary>The normalized sum of <paramref name="terms"/> (like terms combined, constants folded).</summary>
    public static SymExpr Add(params IEnumerable<SymExpr> terms)
    {
        long constant = 0;
        var coefficients = new Dictionary<SymExpr, long>();
        var order = new List<SymExpr>();
        foreach (var term in Flatten(SymExprKind.Add, terms))
        {
            if (term.IsInteger)
            {
                constant = Checked(() => checked(constant + term.Value));
                continue;
            }
            var (coefficient, rest) = SplitCoefficient(term);
            if (coefficients.TryGetValue(rest, out var c))
            {
                coefficients[rest] = Checked(() => checked(c + coefficient));
            }
            else
            {
                coefficients[rest] = coefficient;
                order.Add(rest);
            }
        }
        var result = order.Where(r => coefficients[r] != 0).Select(r => Mul(Integer(coefficients[r]), r))
            .OrderBy(t => t.ToString(), StringComparer.Ordinal).ToList();
        if (constant != 0 || result.Count == 0)
        {
            result.Add(Integer(constant));
        }
        return result.Count == 1 ? result[0] : new(SymExprKind.Add, 0, null, [.. result]);
    }

    /// <summary>The normalized product of <paramref name="factors"/> (constants folded).</summary>
    public static SymExpr Mul(params IEnumerable<SymExpr> factors)
    {
        long coefficient = 1;
        var rest = new List<SymExpr>();
        foreach (var factor in Flatten(SymExprKind.Mul, factors))
        {
            if (factor.IsInteger)
            {
                coefficient = Checked(() => checked(coefficient * factor.Value));
            }
            else
            {
                rest.Add(factor);
            }
        }
        if (coefficient == 0 || rest.Count == 0)
        {
            return Integer(coefficient);
        }
        if (coefficient == 1 && rest.Count == 1)
        {
            return rest[0];
        }
        // A number times a sum distributes, as SymPy does: 2*(s0 + 1) is 2*s0 + 2.
        if (rest.Count == 1 && rest[0].Kind == SymExprKind.Add)
        {
            return Add(rest[0].Args.Select(t => Mul(Integer(coefficient), t)));
        }
        rest.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        if (coefficient != 1)
        {
            rest.Insert(0, Integer(coefficient));
        }
        return new(SymExprKind.Mul, 0, null, [.. rest]);
    }

    /// <summary><c>-e</c>.</summary>
    public static SymExpr Negate(SymExpr e) => Mul(Integer(-1), e);

    /// <summary><c>a - b</c>.</summary>
    public static SymExpr Subtract(SymExpr a, SymExpr b) => Add(a, Negate(b));

    /// <summary><c>dividend // divisor</c>, folded when both are constants.</summary>
    public static SymExpr FloorDiv(SymExpr dividend, SymExpr divisor) =>
        Binary(SymExprKind.FloorDiv, dividend, divisor, (a, b) => b == 0 ? null : FloorDivide(a, b));

    /// <summary>The ceiling of <c>dividend / divisor</c>, folded when both are constants.</summary>
    public static SymExpr CeilDiv(SymExpr dividend, SymExpr divisor) =>
        Binary(SymExprKind.CeilDiv, dividend, divisor, (a, b) => b == 0 ? null : CeilDivide(a, b));

    /// <summary><c>dividend % divisor</c> with Python's sign rule, folded when both are constants.</summary>
    public static SymExpr Mod(SymExpr dividend, SymExpr divisor) =>
        Binary(SymExprKind.Mod, dividend, divisor, (a, b) => b == 0 ? null : PythonMod(a, b));

    /// <summary>The largest of <paramref name="args"/>.</summary>
    public static SymExpr Max(params IEnumerable<SymExpr> args) => MinMax(SymExprKind.Max, args);

    /// <summary>The smallest of <paramref name="args"/>.</summary>
    public static SymExpr Min(params IEnumerable<SymExpr> args) => MinMax(SymExprKind.Min, args);

    /// <summary>A power with a non-negative integer exponent.</summary>
    public static SymExpr Pow(SymExpr @base, long exponent)
    {
        if (exponent < 0)
        {
            throw new ModelBuildException(DiagnosticCodes.SymExprUnsupported,
                $"'{@base}**{exponent}' has a negative exponent; size expressions are integers.");
        }
        if (exponent == 0)
        {
            return Integer(1);
        }
        if (exponent == 1)
        {
            return @base;
        }
        if (@base.IsInteger)
        {
            return Integer(IntPow(@base.Value, exponent));
        }
        return new(SymExprKind.Pow, 0, null, [@base, Integer(exponent)]);
    }

    /// <summary>The value for the given symbol values, with Python's floor division and modulo.</summary>
    public long Evaluate(IReadOnlyDictionary<string, long> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        return Eval(symbols);
    }

    /// <summary>
    /// For an expression <c>a*s + b</c> of one symbol (a ≠ 0): the value of <c>s</c> that makes the expression equal
    /// <paramref name="value"/>. False when the expression is not of that form or no integer solves it.
    /// </summary>
    public bool TrySolveFor(long value, out string symbol, out long symbolValue)
    {
        symbol = "";
        symbolValue = 0;
        if (Affine() is not var (s, a, b) || s is null || a == 0)
        {
            return false;
        }
        long rest;
        try
        {
            rest = checked(value - b);
        }
        catch (OverflowException)
        {
            return false;
        }
        if (rest % a != 0)
        {
            return false;
        }
        symbol = s;
        symbolValue = rest / a;
        return true;
    }

    /// <summary>Structural equality of the normalized forms.</summary>
    public bool Equals(SymExpr? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other._hash != _hash || other.Kind != Kind || other.Value != Value || other.Name != Name ||
            other.Args.Count != Args.Count)
        {
            return false;
        }
        for (var i = 0; i < Args.Count; i++)
        {
            if (!Args[i].Equals(other.Args[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SymExpr e && Equals(e);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Structural equality; two nulls are equal.</summary>
    public static bool operator ==(SymExpr? a, SymExpr? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Structural inequality.</summary>
    public static bool operator !=(SymExpr? a, SymExpr? b) => !(a == b);

    /// <summary>PyTorch's str form.</summary>
    public override string ToString() => _text ??= Print();

    private long Eval(IReadOnlyDictionary<string, long> symbols)
    {
        switch (Kind)
        {
            case SymExprKind.Integer:
                return Value;
            case SymExprKind.Symbol:
                return symbols.TryGetValue(Name!, out var v)
                    ? v
                    : throw new ModelBuildException(DiagnosticCodes.SymExprUnboundSymbol,
                        $"'{this}' needs a value for symbol '{Name}', which is not bound.");
            case SymExprKind.Add:
                return Checked(() => Args.Aggregate(0L, (acc, a) => checked(acc + a.Eval(symbols))));
            case SymExprKind.Mul:
                return Checked(() => Args.Aggregate(1L, (acc, a) => checked(acc * a.Eval(symbols))));
            case SymExprKind.Max:
                return Args.Max(a => a.Eval(symbols));
            case SymExprKind.Min:
                return Args.Min(a => a.Eval(symbols));
            case SymExprKind.Pow:
                return IntPow(Args[0].Eval(symbols), Args[1].Value);
            default:
                var dividend = Args[0].Eval(symbols);
                var divisor = Args[1].Eval(symbols);
                if (divisor == 0)
                {
                    throw new ModelBuildException(DiagnosticCodes.SymExprArithmetic, $"'{this}' divides by zero.");
                }
                return Kind switch
                {
                    SymExprKind.FloorDiv => Checked(() => FloorDivide(dividend, divisor)),
                    SymExprKind.CeilDiv => Checked(() => CeilDivide(dividend, divisor)),
                    _ => PythonMod(dividend, divisor),
                };
        }
    }

    private (string? Symbol, long A, long B)? Affine()
    {
        switch (Kind)
        {
            case SymExprKind.Integer:
                return (null, 0, Value);
            case SymExprKind.Symbol:
                return (Name, 1, 0);
            case SymExprKind.Add:
            {
                string? symbol = null;
                long a = 0, b = 0;
                foreach (var term in Args)
                {
                    if (term.Affine() is not var (s, ta, tb))
                    {
                        return null;
                    }
                    if (s is not null && symbol is not null && s != symbol)
                    {
                        return null;
                    }
                    symbol ??= s;
                    try
                    {
                        a = checked(a + ta);
                        b = checked(b + tb);
                    }
                    catch (OverflowException)
                    {
                        return null;
                    }
                }
                return (symbol, a, b);
            }
            case SymExprKind.Mul:
            {
                // Normalized products hold at most one constant, first; affine only as c*s.
                if (Args.Count == 2 && Args[0].IsInteger && Args[1].Affine() is var (s, a, b))
                {
                    try
                    {
                        return (s, checked(Args[0].Value * a), checked(Args[0].Value * b));
                    }
                    catch (OverflowException)
                    {
                        return null;
                    }
                }
                return null;
            }
            default:
                return null;
        }
    }

    private string Print()
    {
        switch (Kind)
        {
            case SymExprKind.Integer:
                return Value.ToString(CultureInfo.InvariantCulture);
            case SymExprKind.Symbol:
                return Name!;
            case SymExprKind.Add:
            {
                // As SymPy prints it: a positive term leads when there is one (3 - s0, not -s0 + 3).
                var terms = Args.ToList();
                var firstPositive = terms.FindIndex(t => !IsNegativeTerm(t));
                if (firstPositive > 0)
                {
                    terms.Insert(0, terms[firstPositive]);
                    terms.RemoveAt(firstPositive + 1);
                }
                var sb = new StringBuilder();
                foreach (var term in terms)
                {
                    var negative = IsNegativeTerm(term);
                    var shown = negative ? Negate(term) : term;
                    if (sb.Length == 0)
                    {
                        sb.Append(negative ? "-" : "").Append(shown.Parenthesized(Precedence.Add));
                    }
                    else
                    {
                        sb.Append(negative ? " - " : " + ").Append(shown.Parenthesized(Precedence.Add));
                    }
                }
                return sb.ToString();
            }
            case SymExprKind.Mul:
            {
                var factors = string.Join("*", Args.Where(a => !a.IsInteger).Select(a => a.Parenthesized(Precedence.Mul)));
                return Args[0].IsInteger
                    ? (Args[0].Value == -1 ? "-" : $"{Args[0].Value.ToString(CultureInfo.InvariantCulture)}*") + factors
                    : factors;
            }
            case SymExprKind.Pow:
                return $"{Args[0].Parenthesized(Precedence.Atom)}**{Args[1]}";
            case SymExprKind.FloorDiv:
                return $"({Args[0].Parenthesized(Precedence.Atom)}//{Args[1].Parenthesized(Precedence.Atom)})";
            case SymExprKind.Mod:
                return $"({Args[0].Parenthesized(Precedence.Atom)} % {Args[1].Parenthesized(Precedence.Atom)})";
            default:
                return $"{Kind}({string.Join(", ", Args)})";
        }
    }

    private static bool IsNegativeTerm(SymExpr term) =>
        term.IsInteger ? term.Value < 0 : SplitCoefficient(term).Coefficient < 0;

    private enum Precedence { Add, Mul, Atom }

    private Precedence OwnPrecedence => Kind switch
    {
        SymExprKind.Add => Precedence.Add,
        SymExprKind.Mul => Precedence.Mul,
        SymExprKind.Integer when Value < 0 => Precedence.Add,
        SymExprKind.Pow => Precedence.Mul,
        _ => Precedence.Atom,
    };

    /// <summary>The text, in parentheses when its own binding is weaker than the context's (or equal, for powers).</summary>
    private string Parenthesized(Precedence context)
    {
        var own = OwnPrecedence;
        var needs = own < context || (context == Precedence.Atom && Kind == SymExprKind.Pow);
        return needs ? $"({this})" : ToString();
    }

    private IReadOnlySet<string> CollectSymbols()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (Name is not null)
        {
            set.Add(Name);
        }
        foreach (var a in Args)
        {
            set.UnionWith(a.Symbols);
        }
        return set;
    }

    private static IEnumerable<SymExpr> Flatten(SymExprKind kind, IEnumerable<SymExpr> items)
    {
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item);
            if (item.Kind == kind)
            {
                foreach (var inner in item.Args)
                {
                    yield return inner;
                }
            }
            else
            {
                yield return item;
            }
        }
    }

    private static (long Coefficient, SymExpr Remainder) SplitCoefficient(SymExpr term)
    {
        if (term.Kind == SymExprKind.Mul && term.Args[0].IsInteger)
        {
            var rest = term.Args.Count == 2 ? term.Args[1] : new SymExpr(SymExprKind.Mul, 0, null, [.. term.Args.Skip(1)]);
            return (term.Args[0].Value, rest);
        }
        return (1, term);
    }

    private static SymExpr Binary(SymExprKind kind, SymExpr a, SymExpr b, Func<long, long, long?> fold)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.IsInteger && b.IsInteger && Checked(() => fold(a.Value, b.Value)) is long folded)
        {
            return Integer(folded);
        }
        if (b.IsInteger && b.Value == 1 && kind != SymExprKind.Mod)
        {
            return a;
        }
        return new(kind, 0, null, [a, b]);
    }

    private static SymExpr MinMax(SymExprKind kind, IEnumerable<SymExpr> args)
    {
        var list = Flatten(kind, args).Distinct().ToList();
        var constants = list.Where(a => a.IsInteger).Select(a => a.Value).ToList();
        var rest = list.Where(a => !a.IsInteger).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();
        if (constants.Count > 0)
        {
            rest.Insert(0, Integer(kind == SymExprKind.Max ? constants.Max() : constants.Min()));
        }
        if (rest.Count == 0)
        {
            throw new ArgumentException($"{kind} needs at least one argument.", nameof(args));
        }
        return rest.Count == 1 ? rest[0] : new(kind, 0, null, [.. rest]);
    }

    private static long FloorDivide(long a, long b)
    {
        var q = checked(a / b);
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    private static long CeilDivide(long a, long b) => checked(-FloorDivide(checked(-a), b));

    private static long PythonMod(long a, long b)
    {
        if (b == -1)
        {
            return 0;
        }
        var r = a % b;
        return (r != 0 && (r < 0) != (b < 0)) ? r + b : r;
    }

    private static long IntPow(long b, long exponent)
    {
        switch (b)
        {
            case 0:
                return exponent == 0 ? 1 : 0;
            case 1:
                return 1;
            case -1:
                return exponent % 2 == 0 ? 1 : -1;
        }
        return Checked(() =>
        {
            long result = 1;
            var square = b;
            for (var e = exponent; e > 0; e >>= 1)
            {
                if ((e & 1) == 1)
                {
                    result = checked(result * square);
                }
                if (e > 1)
                {
                    square = checked(square * square);
                }
            }
            return result;
        });
    }

    private static T Checked<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (OverflowException e)
        {
            throw new ModelBuildException(DiagnosticCodes.SymExprArithmetic,
                "A size expression overflows 64-bit integers.", inner: e);
        }
    }
}
