using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>
/// Structure-aware mutations of JSON: a node somewhere in the tree becomes null, goes away, turns into another type, an
/// interesting number, a huge string, a deep nest, or a copy of another node; arrays grow and shuffle. The result is
/// still JSON, so it reaches the schema checks behind the parser. Text that is no JSON gets byte mutations.
/// </summary>
internal static class JsonMutator
{
    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = 2048 };

    private static readonly string[] Strings = ["", "?", "s0", "2*s0", "(", "Symbol('s0')", "cuda", "F33", "torch.ops.aten.add.Tensor", "../x", "Infinity", "NaN"];

    public static string Mutate(string json, Random rng)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 512 });
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(ByteMutator.Mutate(Encoding.UTF8.GetBytes(json), rng));
        }
        for (var n = rng.Next(1, 4); n > 0 && root is not null; n--)
        {
            root = Once(root, rng);
        }
        return root?.ToJsonString(Deep) ?? "null";
    }

    private static JsonNode? Once(JsonNode root, Random rng)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[rng.Next(nodes.Count)];
        var replacement = rng.Next(12) switch
        {
            0 => null,
            1 => JsonValue.Create(ByteMutator.Interesting[rng.Next(ByteMutator.Interesting.Length)]),
            2 => JsonValue.Create(Strings[rng.Next(Strings.Length)]),
            3 => JsonValue.Create(new string('x', rng.Next(2) == 0 ? 70_000 : 300)),
            4 => Nest(rng.Next(1, 300)),
            5 => nodes[rng.Next(nodes.Count)].DeepClone(),
            6 => new JsonObject(),
            7 => new JsonArray(),
            8 => JsonValue.Create(rng.NextDouble() * Math.Pow(10, rng.Next(-5, 300))),
            9 => JsonValue.Create(rng.Next(2) == 0),
            _ => Restructure(target, rng),
        };
        if (ReferenceEquals(target, root))
        {
            return replacement;
        }
        Replace(target, replacement, remove: rng.Next(10) == 0);
        return root;
    }

    /// <summary>Arrays grow by a copy of an element or lose one; objects lose a property or gain a renamed copy.</summary>
    private static JsonNode Restructure(JsonNode node, Random rng)
    {
        switch (node)
        {
            case JsonArray { Count: > 0 } array:
                var copy = (JsonArray)array.DeepClone();
                if (rng.Next(2) == 0)
                {
                    copy.RemoveAt(rng.Next(copy.Count));
                }
                else
                {
                    for (var n = rng.Next(1, rng.Next(2) == 0 ? 4 : 2000); n > 0; n--)
                    {
                        copy.Add(copy[rng.Next(copy.Count)]?.DeepClone());
                    }
                }
                return copy;
            case JsonObject { Count: > 0 } obj:
                var clone = (JsonObject)obj.DeepClone();
                var key = clone.ElementAt(rng.Next(clone.Count)).Key;
                if (rng.Next(2) == 0)
                {
                    clone.Remove(key);
                }
                else
                {
                    clone[key + "_"] = clone[key]?.DeepClone();
                }
                return clone;
            default:
                return node.DeepClone();
        }
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 1; i < depth; i++)
        {
            node = new JsonArray(node);
        }
        return node;
    }

    private static void Replace(JsonNode target, JsonNode? replacement, bool remove)
    {
        switch (target.Parent)
        {
            case JsonObject obj:
                var key = target.GetPropertyName();
                if (remove)
                {
                    obj.Remove(key);
                }
                else
                {
                    obj[key] = replacement;
                }
                break;
            case JsonArray array:
                var index = target.GetElementIndex();
                if (remove)
                {
                    array.RemoveAt(index);
                }
                else
                {
                    array[index] = replacement;
                }
                break;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    if (value is not null)
                    {
                        Collect(value, into);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Collect(item, into);
                    }
                }
                break;
        }
    }
}
