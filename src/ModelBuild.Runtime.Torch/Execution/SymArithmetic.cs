namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Python's arithmetic on the symbolic values of a graph: ints (<see cref="long"/>, with bools counting as 0 and 1) stay
/// ints unless a float (<see cref="double"/>) takes part; <c>//</c> and <c>%</c> round toward negative infinity.
/// Results are boxed as what they are: a conditional of a long and a double would be a double.
/// </summary>
internal static class SymArithmetic
{
    public static object Add(object a, object b) => IsInt(a) && IsInt(b) ? checked(Long(a) + Long(b)) : (object)(Double(a) + Double(b));

    public static object Sub(object a, object b) => IsInt(a) && IsInt(b) ? checked(Long(a) - Long(b)) : (object)(Double(a) - Double(b));

    public static object Mul(object a, object b) => IsInt(a) && IsInt(b) ? checked(Long(a) * Long(b)) : (object)(Double(a) * Double(b));

    public static object FloorDiv(object a, object b)
    {
        if (!IsInt(a) || !IsInt(b))
        {
            return Math.Floor(Double(a) / Double(b));
        }
        long x = Long(a), y = Long(b);
        var quotient = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? quotient - 1 : quotient;
    }

    public static object Mod(object a, object b)
    {
        if (!IsInt(a) || !IsInt(b))
        {
            var (x, y) = (Double(a), Double(b));
            return x - (y * Math.Floor(x / y));
        }
        return checked(Long(a) - (Long(b) * (long)FloorDiv(a, b)));
    }

    /// <summary>An int to a non-negative int power is an int; anything else is a float.</summary>
    public static object Pow(object a, object b)
    {
        if (IsInt(a) && IsInt(b) && Long(b) >= 0)
        {
            long result = 1, x = Long(a);
            for (var e = Long(b); e > 0; e--)
            {
                result = checked(result * x);
            }
            return result;
        }
        return Math.Pow(Double(a), Double(b));
    }

    /// <summary>-1, 0 or 1, as the numbers compare.</summary>
    public static int Compare(object a, object b) => IsInt(a) && IsInt(b) ? Long(a).CompareTo(Long(b)) : Double(a).CompareTo(Double(b));

    public static bool Truth(object a) => a switch
    {
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        _ => throw new InvalidOperationException($"a {a.GetType().Name} is not a symbolic value."),
    };

    public static double Double(object a) => a switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException($"a {a.GetType().Name} is not a symbolic value."),
    };

    private static bool IsInt(object a) => a is long or bool;

    private static long Long(object a) => a switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException($"a {a.GetType().Name} is not a symbolic int."),
    };
}
