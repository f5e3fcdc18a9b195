using System.Text.Json.Nodes;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>
/// Mutations of an engine's manifest or plan that an attacker who knows the format would make: the JSON is mutated
/// (one in four times a required field becomes null, the finding that MB4012 answers) and both hashes are recomputed,
/// so that only the reader's own checks stand between the edit and the runtime.
/// </summary>
internal static class EngineMutator
{
    public static byte[] Mutate(byte[] engine, string part, Random rng)
    {
        var file = SafetensorsFile.Parse(engine);
        var manifest = file.Metadata[EngineFile.ManifestKey];
        var plan = file.Metadata[EngineFile.PlanKey];
        if (part == EngineFile.ManifestKey)
        {
            manifest = rng.Next(4) == 0 ? NullSomewhere(manifest, rng) : JsonMutator.Mutate(manifest, rng);
        }
        else
        {
            plan = rng.Next(4) == 0 ? NullSomewhere(plan, rng) : JsonMutator.Mutate(plan, rng);
        }
        return EngineEditor.Seal(file, manifest, plan);
    }

    /// <summary>One value of the tree (an object's property or an array's element) set to null.</summary>
    private static string NullSomewhere(string json, Random rng)
    {
        var root = JsonNode.Parse(json)!;
        var slots = new List<(JsonNode Parent, int Index, string? Key)>();
        Collect(root, slots);
        if (slots.Count > 0)
        {
            var (parent, index, key) = slots[rng.Next(slots.Count)];
            if (key is null)
            {
                ((JsonArray)parent)[index] = null;
            }
            else
            {
                ((JsonObject)parent)[key] = null;
            }
        }
        return root.ToJsonString();
    }

    private static void Collect(JsonNode node, List<(JsonNode, int, string?)> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    into.Add((obj, 0, key));
                    if (value is not null)
                    {
                        Collect(value, into);
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    into.Add((array, i, null));
                    if (array[i] is { } item)
                    {
                        Collect(item, into);
                    }
                }
                break;
        }
    }
}
