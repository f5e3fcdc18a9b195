using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ActionResultCodecTests
{
    private static readonly string Sha = new('a', 64);

    [TestMethod]
    public void An_encoded_entry_decodes_to_its_digest()
    {
        Assert.IsTrue(ActionResultCodec.TryDecode(ActionResultCodec.Encode(Sha, 123_456_789_012), out var sha, out var size));
        Assert.AreEqual((Sha, 123_456_789_012L), (sha, size));
    }

    [TestMethod]
    public void The_encoding_is_the_protobuf_of_an_ActionResult_with_one_output_file()
    {
        // ActionResult{output_files: [OutputFile{path: "engine", digest: Digest{hash: "aa..", size_bytes: 300}}]}
        byte[] digest = [0x0A, 64, .. System.Text.Encoding.ASCII.GetBytes(Sha), 0x10, 0xAC, 0x02];
        byte[] file = [0x0A, 6, .. "engine"u8.ToArray(), 0x12, (byte)digest.Length, .. digest];
        byte[] result = [0x12, (byte)file.Length, .. file];
        CollectionAssert.AreEqual(result, ActionResultCodec.Encode(Sha, 300));
    }

    [TestMethod]
    public void Fields_other_servers_add_are_skipped()
    {
        var entry = ActionResultCodec.Encode(Sha, 7);
        // exit_code = 4 (varint 1), stdout_raw = 5 (bytes), then another output file named otherwise first.
        byte[] extra = [0x20, 0x01, 0x2A, 3, (byte)'o', (byte)'u', (byte)'t'];
        byte[] other = [0x12, 5, 0x0A, 3, (byte)'l', (byte)'o', (byte)'g'];
        Assert.IsTrue(ActionResultCodec.TryDecode([.. extra, .. other, .. entry], out var sha, out var size));
        Assert.AreEqual((Sha, 7L), (sha, size));
    }

    [TestMethod]
    [DataRow(new byte[] { })]
    [DataRow(new byte[] { 0x12, 0x40, 0x0A })]
    [DataRow(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    public void Bytes_that_are_no_such_entry_do_not_decode(byte[] bytes) =>
        Assert.IsFalse(ActionResultCodec.TryDecode(bytes, out _, out _));

    [TestMethod]
    public void A_digest_that_is_not_lowercase_hex_does_not_decode() =>
        Assert.IsFalse(ActionResultCodec.TryDecode(ActionResultCodec.Encode(new string('A', 64), 1), out _, out _));
}
