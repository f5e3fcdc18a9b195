using ModelBuild.Engine.Graph;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>A node's constant arguments by schema name, for kernel checks that run before any value exists.</summary>
internal static class NodeConstants
{
    public static Argument? Find(this GraphNode node, string name) => node.Inputs.FirstOrDefault(i => i.Name == name)?.Value;

    /// <summary>The string argument, null when it is absent or None.</summary>
    public static string? String(this GraphNode node, string name) => node.Find(name) is StringArg s ? s.Value : null;

    /// <summary>The int argument, null when it is absent, None or only known at run time.</summary>
    public static long? Long(this GraphNode node, string name) => node.Find(name) switch
    {
        IntArg i => i.Value,
        SymIntArg { Value.Literal: { } literal } => literal,
        _ => null,
    };

    public static double? Double(this GraphNode node, string name) => node.Find(name) switch
    {
        FloatArg f => f.Value,
        IntArg i => i.Value,
        _ => null,
    };

    public static bool? Bool(this GraphNode node, string name) => node.Find(name) is BoolArg b ? b.Value : null;

    /// <summary>"argument 'name' = value is not supported" when the string argument is given and not one of <paramref name="supported"/>.</summary>
    public static string? OneOf(this GraphNode node, string name, params string?[] supported) =>
        node.String(name) is { } value && !supported.Contains(value)
            ? $"argument '{name}' = '{value}' is not supported (only {string.Join(", ", supported.Select(s => s is null ? "None" : $"'{s}'"))})"
            : null;
}
