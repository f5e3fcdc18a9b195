using System.Buffers.Binary;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>Format-blind mutations: flipped bits, interesting integers, inserted, deleted and repeated runs, truncation.</summary>
internal static class ByteMutator
{
    /// <summary>Values that sit on boundaries: zero, all ones, the signed limits, powers of two past 32 bits.</summary>
    public static readonly long[] Interesting =
    [
        0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue,
        1L << 32, 1L << 40, 1L << 53, 1L << 62, long.MaxValue, long.MinValue,
    ];

    /// <summary>One to three mutations of a copy of <paramref name="data"/>.</summary>
    public static byte[] Mutate(byte[] data, Random rng)
    {
        var result = data;
        for (var n = rng.Next(1, 4); n > 0; n--)
        {
            result = Once(result, rng);
        }
        return result;
    }

    private static byte[] Once(byte[] data, Random rng)
    {
        if (data.Length == 0)
        {
            return [.. Junk(rng, rng.Next(1, 16))];
        }
        var at = rng.Next(data.Length);
        var copy = (byte[])data.Clone();
        switch (rng.Next(8))
        {
            case 0:
                copy[at] ^= (byte)(1 << rng.Next(8));
                return copy;
            case 1:
                copy[at] = (byte)Interesting[rng.Next(Interesting.Length)];
                return copy;
            case 2 when data.Length - at >= 4:
                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), (int)Interesting[rng.Next(Interesting.Length)]);
                return copy;
            case 3 when data.Length - at >= 8:
                BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), Interesting[rng.Next(Interesting.Length)]);
                return copy;
            case 4:
                return [.. data[..at], .. Junk(rng, rng.Next(1, 64)), .. data[at..]];
            case 5:
                return [.. data[..at], .. data[Math.Min(data.Length, at + rng.Next(1, 256))..]];
            case 6:
            {
                var run = data[at..Math.Min(data.Length, at + rng.Next(1, 256))];
                return [.. data[..at], .. Enumerable.Repeat(run, rng.Next(2, 8)).SelectMany(r => r), .. data[at..]];
            }
            default:
                return data[..at];
        }
    }

    private static byte[] Junk(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }
}
