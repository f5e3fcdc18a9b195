using System.Text;

namespace ModelBuild.Fuzz.Mutations;

/// <summary>
/// Pickle-aware mutations: besides byte mutations, a snippet of opcodes is spliced in somewhere: marks and containers
/// that nest or never close, memo reads and writes far away, strings that claim gigabytes, globals off the allow-list.
/// </summary>
internal static class PickleMutator
{
    private static readonly byte[][] Snippets =
    [
        "("u8.ToArray(), "]"u8.ToArray(), "}"u8.ToArray(), ")"u8.ToArray(), "e"u8.ToArray(), "u"u8.ToArray(), "t"u8.ToArray(),
        "a"u8.ToArray(), "s"u8.ToArray(), "b"u8.ToArray(), "R"u8.ToArray(), "Q"u8.ToArray(), "0"u8.ToArray(), "1"u8.ToArray(),
        "2"u8.ToArray(), "."u8.ToArray(), "N"u8.ToArray(), [0x81], [0x85], [0x86], [0x87], [0x88], [0x93], [0x94],
        "h\0"u8.ToArray(), "j\xff\xff\xff\x7f"u8.ToArray(), "r\xff\xff\xff\xff"u8.ToArray(), "q\0"u8.ToArray(),
        "J\xff\xff\xff\x7f"u8.ToArray(), "K\xff"u8.ToArray(), "M\xff\xff"u8.ToArray(), [0x8a, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        "X\xff\xff\xff\x7f"u8.ToArray(), [0x8d, 0, 0, 0, 0, 1, 0, 0, 0], "B\xff\xff\xff\x7f"u8.ToArray(), [0x95, 0xff, 0xff, 0, 0, 0, 0, 0, 0],
        [0x80, 9], "G\x7f\xf0\0\0\0\0\0\0"u8.ToArray(), "I01\n"u8.ToArray(), "I99999999999999999999\n"u8.ToArray(),
        Encoding.ASCII.GetBytes("cos\nsystem\n"), Encoding.ASCII.GetBytes("ctorch._utils\n_rebuild_tensor_v2\n"),
        Encoding.ASCII.GetBytes("ccollections\nOrderedDict\n"), Encoding.ASCII.GetBytes("ctorch\nFloatStorage\n"),
        Encoding.ASCII.GetBytes("c__torch__.M\nM\n"), [0x8c, 7, .. "storage"u8],
    ];

    public static byte[] Mutate(byte[] pickle, Random rng)
    {
        if (rng.Next(3) == 0 || pickle.Length == 0)
        {
            return ByteMutator.Mutate(pickle, rng);
        }
        var result = pickle;
        for (var n = rng.Next(1, 5); n > 0; n--)
        {
            var at = rng.Next(result.Length);
            var snippet = Snippets[rng.Next(Snippets.Length)];
            result = [.. result[..at], .. Enumerable.Repeat(snippet, rng.Next(10) == 0 ? rng.Next(2, 5000) : 1).SelectMany(s => s), .. result[at..]];
        }
        return result;
    }
}
