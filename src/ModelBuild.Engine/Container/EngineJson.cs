using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelBuild.Engine.Container;

/// <summary>The JSON settings of the manifest and plan inside an engine: camelCase names, nulls omitted, compact.</summary>
public static class EngineJson
{
    /// <summary>The options that write and read manifests and plans.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
        // Infinity and NaN occur in validation errors and in constants of plans (masked_fill with -inf).
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // A plan nests seven levels (plan, nodes, node, inputs, argument, value, list); deeper JSON is not one.
        MaxDepth = 16,
        TypeInfoResolver = EngineJsonContext.Default,
    };
}
