using System.Globalization;
using ModelBuild.Diagnostics;

namespace ModelBuild.Engine.Symbolic;

/// <summary>
/// Reads both forms torch.export writes: SymPy's <c>srepr</c> (<c>Mul(Integer(8), Symbol('s69', positive=True,
/// integer=True))</c>) and its <c>str</c> (<c>8*s69</c>, <c>((s0 - 5)//3) + 1</c>, <c>Max(1, s0)</c>), with Python's
/// operator precedence. One recursive-descent pass, bounded in length and depth, so any input ends in a value or an
/// MB1001/MB1002 error.
/// </summary>
internal sealed class SymExprParser
{
    public const int MaxLength = 65536;
    public const int MaxDepth = 200;

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _pos;
    private int _depth;

    private SymExprParser(string text, List<Token> tokens)
    {
        _text = text;
        _tokens = tokens;
    }

    public static SymExpr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            throw new ModelBuildException(DiagnosticCodes.SymExprUnsupported,
                $"A size expression of {text.Length} characters is longer than the {MaxLength} ModelBuild reads.");
        }
        var parser = new SymExprParser(text, Tokenize(text));
        var result = parser.ParseExpr();
        if (parser.Peek.Type != TokenType.End)
        {
            throw parser.Syntax($"unexpected '{parser.Peek.Text}'");
        }
        return result;
    }

    private enum TokenType { Int, Name, String, LParen, RParen, Comma, Equals, Plus, Minus, Star, StarStar, SlashSlash, Percent, End }

    private readonly record struct Token(TokenType Type, string Text, int Position);

    private Token Peek => _tokens[_pos];

    private Token Next() => _tokens[_pos++];

    // Runs of + and - (and of *) are collected and built once: folding them pairwise would rebuild and re-sort the
    // sum at every operator, quadratic in the length of a long expression.
    private SymExpr ParseExpr()
    {
        Enter();
        var terms = new List<SymExpr> { ParseTerm() };
        while (Peek.Type is TokenType.Plus or TokenType.Minus)
        {
            var op = Next().Type;
            var term = ParseTerm();
            terms.Add(op == TokenType.Plus ? term : SymExpr.Negate(term));
        }
        _depth--;
        return terms.Count == 1 ? terms[0] : SymExpr.Add(terms);
    }

    private SymExpr ParseTerm()
    {
        var factors = new List<SymExpr> { ParseUnary() };
        while (Peek.Type is TokenType.Star or TokenType.SlashSlash or TokenType.Percent)
        {
            var op = Next().Type;
            var right = ParseUnary();
            if (op == TokenType.Star)
            {
                factors.Add(right);
                continue;
            }
            // // and % bind left to right with *: a*b//c is (a*b)//c.
            var left = factors.Count == 1 ? factors[0] : SymExpr.Mul(factors);
            factors = [op == TokenType.SlashSlash ? SymExpr.FloorDiv(left, right) : SymExpr.Mod(left, right)];
        }
        return factors.Count == 1 ? factors[0] : SymExpr.Mul(factors);
    }

    private SymExpr ParseUnary()
    {
        Enter();
        SymExpr result;
        if (Peek.Type == TokenType.Minus)
        {
            Next();
            result = SymExpr.Negate(ParseUnary());
        }
        else if (Peek.Type == TokenType.Plus)
        {
            Next();
            result = ParseUnary();
        }
        else
        {
            result = ParsePower();
        }
        _depth--;
        return result;
    }

    private SymExpr ParsePower()
    {
        var start = Peek;
        var @base = ParsePrimary();
        if (Peek.Type != TokenType.StarStar)
        {
            return @base;
        }
        Next();
        var exponent = ParseUnary();
        return exponent.IsInteger ? SymExpr.Pow(@base, exponent.Value) : throw Unsupported(start, "a power with a symbolic exponent");
    }

    private SymExpr ParsePrimary()
    {
        var token = Next();
        switch (token.Type)
        {
            case TokenType.Int:
                return long.TryParse(token.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                    ? SymExpr.Integer(value)
                    : throw Unsupported(token, $"the integer {token.Text}, which does not fit in 64 bits");
            case TokenType.LParen:
            {
                var inner = ParseExpr();
                Expect(TokenType.RParen);
                return inner;
            }
            case TokenType.Name when Peek.Type == TokenType.LParen:
                return ParseCall(token);
            case TokenType.Name when token.Text is "oo" or "int_oo" or "nan" or "zoo" or "True" or "False":
                throw Unsupported(token, $"'{token.Text}', which is not a finite integer size");
            case TokenType.Name:
                return SymExpr.Symbol(token.Text);
            default:
                throw Syntax(token.Type == TokenType.End ? "unexpected end" : $"unexpected '{token.Text}'", token);
        }
    }

    private SymExpr ParseCall(Token function)
    {
        Enter();
        Expect(TokenType.LParen);
        var args = new List<Arg>();
        while (Peek.Type != TokenType.RParen)
        {
            if (args.Count > 0)
            {
                Expect(TokenType.Comma);
                if (Peek.Type == TokenType.RParen)
                {
                    break;
                }
            }
            args.Add(ParseArg(function.Text is "CeilToInt" or "FloorToInt"));
        }
        Expect(TokenType.RParen);
        _depth--;

        // SymPy's keyword assumptions (positive=True, integer=True) say nothing about values; they are dropped.
        var exprs = args.Where(a => a.Keyword is null).ToList();
        return function.Text switch
        {
            "Symbol" when exprs is [{ Text: { } name }] && IsIdentifier(name) => SymExpr.Symbol(name),
            "Integer" when exprs is [{ Expr: { IsInteger: true } e }] => e,
            "Add" when Exprs(exprs, function, 1) is { } list => SymExpr.Add(list),
            "Mul" when Exprs(exprs, function, 1) is { } list => SymExpr.Mul(list),
            "Max" when Exprs(exprs, function, 1) is { } list => SymExpr.Max(list),
            "Min" when Exprs(exprs, function, 1) is { } list => SymExpr.Min(list),
            "FloorDiv" or "CleanDiv" when Exprs(exprs, function, 2, 2) is [var a, var b] => SymExpr.FloorDiv(a, b),
            "CeilDiv" when Exprs(exprs, function, 2, 2) is [var a, var b] => SymExpr.CeilDiv(a, b),
            "Mod" or "PythonMod" when Exprs(exprs, function, 2, 2) is [var a, var b] => SymExpr.Mod(a, b),
            "Pow" when Exprs(exprs, function, 2, 2) is [var a, { IsInteger: true } b] => SymExpr.Pow(a, b.Value),
            "CeilToInt" when exprs is [{ TrueDivision: var (a, b) }] => SymExpr.CeilDiv(a, b),
            "FloorToInt" when exprs is [{ TrueDivision: var (a, b) }] => SymExpr.FloorDiv(a, b),
            "CeilToInt" or "FloorToInt" when exprs is [{ Expr: { } e }] => e,
            "Symbol" or "Integer" or "Add" or "Mul" or "Max" or "Min" or "FloorDiv" or "CleanDiv" or "CeilDiv" or "Mod"
                or "PythonMod" or "Pow" or "CeilToInt" or "FloorToInt" =>
                throw Unsupported(function, $"these arguments to {function.Text}"),
            _ => throw Unsupported(function, $"the function {function.Text}"),
        };
    }

    private IReadOnlyList<SymExpr> Exprs(List<Arg> args, Token function, int min, int max = int.MaxValue)
    {
        if (args.Count < min || args.Count > max || args.Any(a => a.Expr is null))
        {
            throw Unsupported(function, $"these arguments to {function.Text}");
        }
        return args.Select(a => a.Expr!).ToList();
    }

    private Arg ParseArg(bool allowTrueDivision)
    {
        if (Peek.Type == TokenType.String)
        {
            return new Arg(null, null, Next().Text, null);
        }
        if (Peek.Type == TokenType.Name && _tokens[_pos + 1].Type == TokenType.Equals)
        {
            var keyword = Next().Text;
            Next();
            var value = Next();
            if (value.Type is not (TokenType.Name or TokenType.Int or TokenType.String))
            {
                throw Syntax($"unexpected '{value.Text}' as the value of {keyword}", value);
            }
            return new Arg(keyword, null, null, null);
        }
        if (allowTrueDivision && Peek is { Type: TokenType.Name, Text: "IntTrueDiv" } && _tokens[_pos + 1].Type == TokenType.LParen)
        {
            Next();
            Expect(TokenType.LParen);
            var a = ParseExpr();
            Expect(TokenType.Comma);
            var b = ParseExpr();
            Expect(TokenType.RParen);
            return new Arg(null, null, null, (a, b));
        }
        return new Arg(null, ParseExpr(), null, null);
    }

    private sealed record Arg(string? Keyword, SymExpr? Expr, string? Text, (SymExpr, SymExpr)? TrueDivision);

    private void Expect(TokenType type)
    {
        var token = Next();
        if (token.Type != type)
        {
            _pos--;
            throw Syntax(token.Type == TokenType.End ? $"expected {Describe(type)} before the end" : $"expected {Describe(type)} instead of '{token.Text}'", token);
        }
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw new ModelBuildException(DiagnosticCodes.SymExprUnsupported,
                $"'{Excerpt(_text)}' nests deeper than the {MaxDepth} levels ModelBuild reads.");
        }
    }

    private ModelBuildException Syntax(string what, Token? at = null)
    {
        var position = (at ?? Peek).Position;
        return new ModelBuildException(DiagnosticCodes.SymExprSyntax,
            $"'{Excerpt(_text)}' is not a size expression: {what} at position {position}.");
    }

    private ModelBuildException Unsupported(Token at, string what) =>
        new(DiagnosticCodes.SymExprUnsupported,
            $"'{Excerpt(_text)}' uses {what} (position {at.Position}); ModelBuild evaluates integers, symbols, + - * // % **, Max, Min, FloorDiv, CeilDiv and Mod.");

    private static string Describe(TokenType type) => type switch
    {
        TokenType.RParen => "')'",
        TokenType.LParen => "'('",
        TokenType.Comma => "','",
        _ => type.ToString(),
    };

    private static string Excerpt(string text) => text.Length <= 200 ? text : text[..200] + "...";

    private static bool IsIdentifier(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var start = i;
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
                tokens.Add(new Token(TokenType.Int, text[start..i], start));
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(TokenType.Name, text[start..i], start));
                continue;
            }
            if (c is '\'' or '"')
            {
                var end = text.IndexOf(c, i + 1);
                if (end < 0)
                {
                    throw new ModelBuildException(DiagnosticCodes.SymExprSyntax,
                        $"'{Excerpt(text)}' is not a size expression: the string at position {start} is not closed.");
                }
                tokens.Add(new Token(TokenType.String, text[(start + 1)..end], start));
                i = end + 1;
                continue;
            }
            var (type, length) = c switch
            {
                '(' => (TokenType.LParen, 1),
                ')' => (TokenType.RParen, 1),
                ',' => (TokenType.Comma, 1),
                '=' => (TokenType.Equals, 1),
                '+' => (TokenType.Plus, 1),
                '-' => (TokenType.Minus, 1),
                '%' => (TokenType.Percent, 1),
                '*' when i + 1 < text.Length && text[i + 1] == '*' => (TokenType.StarStar, 2),
                '*' => (TokenType.Star, 1),
                '/' when i + 1 < text.Length && text[i + 1] == '/' => (TokenType.SlashSlash, 2),
                _ => throw new ModelBuildException(DiagnosticCodes.SymExprSyntax,
                    $"'{Excerpt(text)}' is not a size expression: unexpected '{c}' at position {start}."),
            };
            tokens.Add(new Token(type, text.Substring(start, length), start));
            i += length;
        }
        tokens.Add(new Token(TokenType.End, "", text.Length));
        tokens.Add(new Token(TokenType.End, "", text.Length));
        return tokens;
    }
}
