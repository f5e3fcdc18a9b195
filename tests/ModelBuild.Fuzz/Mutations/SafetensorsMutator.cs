using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using ModelBuild.Tests;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>
/// Header-aware mutations of safetensors files (cases, inputs, engines): the JSON header is mutated and written back
/// with a matching length, so the change reaches the header's checks; one in three, a shape is made to overflow
/// (the element counts of the mutation run that found MB4001's gap). Otherwise bytes anywhere are mutated.
/// </summary>
internal static class SafetensorsMutator
{
    private static readonly long[][] OverflowingShapes =
    [
        [4294967296, 4294967296], [4, 4611686018427387905], [0, long.MaxValue, long.MaxValue], [-1], [1L << 62, 4], [3037000500, 3037000500],
    ];

    public static byte[] Mutate(byte[] file, Random rng)
    {
        if (rng.Next(4) == 0 || file.Length < 8)
        {
            return ByteMutator.Mutate(file, rng);
        }
        var length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > (ulong)(file.Length - 8))
        {
            return ByteMutator.Mutate(file, rng);
        }
        var header = Encoding.UTF8.GetString(file, 8, (int)length);
        var payload = file[(8 + (int)length)..];
        var mutated = rng.Next(3) == 0 && JsonNode.Parse(header) is JsonObject entries ? Overflow(entries, rng) : JsonMutator.Mutate(header, rng);
        return EngineEditor.RawSafetensors(mutated, payload);
    }

    private static string Overflow(JsonObject entries, Random rng)
    {
        var tensors = entries.Where(e => e.Key != "__metadata__" && e.Value is JsonObject).Select(e => (JsonObject)e.Value!).ToList();
        if (tensors.Count > 0)
        {
            var shape = OverflowingShapes[rng.Next(OverflowingShapes.Length)];
            tensors[rng.Next(tensors.Count)]["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)JsonValue.Create(d))]);
        }
        return entries.ToJsonString();
    }
}
