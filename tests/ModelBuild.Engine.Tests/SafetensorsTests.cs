using System.Buffers.Binary;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Tests;

namespace ModelBuild.Engine.Tests;

[TestClass]
public sealed class SafetensorsTests
{
    [TestMethod]
    public void Read_TheFixtureCases_WrittenByPython()
    {
        var cases = SafetensorsFile.Read(TestPaths.Fixture("small_cnn", "cases.safetensors"));

        var min = cases.Tensors["min.in.0"];
        Assert.AreEqual(TensorDType.F32, min.DType);
        CollectionAssert.AreEqual(new long[] { 1, 3, 16, 16 }, min.Shape);
        Assert.AreEqual(1 * 3 * 16 * 16 * 4, cases.Data("min.in.0").Length);
    }

    [TestMethod]
    public void WriteThenRead_KeepsTensorsAndMetadata_AndAlignsEveryTensor()
    {
        var f32 = new byte[12];
        BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4), 2.5f);
        var tensors = new[]
        {
            new SafetensorsTensor("a.bool", TensorDType.BOOL, [3], new byte[] { 1, 0, 1 }),
            new SafetensorsTensor("b.f32", TensorDType.F32, [3], f32),
            new SafetensorsTensor("c.i64", TensorDType.I64, [1, 1], BitConverter.GetBytes(-7L)),
        };

        var bytes = SafetensorsWriter.Write(tensors, new Dictionary<string, string> { ["manifest"] = "{\"x\":1}" });
        var back = SafetensorsFile.Parse(bytes);

        Assert.AreEqual("{\"x\":1}", back.Metadata["manifest"]);
        Assert.AreEqual(2.5f, BinaryPrimitives.ReadSingleLittleEndian(back.Data("b.f32").Span[4..]));
        Assert.AreEqual(-7L, BitConverter.ToInt64(back.Data("c.i64").Span));
        CollectionAssert.AreEqual(new byte[] { 1, 0, 1 }, back.Data("a.bool").ToArray());
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0, headerLength % 8);
        foreach (var e in back.Tensors.Values)
        {
            Assert.AreEqual(0, (8 + headerLength + e.Begin) % e.DType.ElementSize(), e.Name);
        }
    }

    [TestMethod]
    public void Parse_RefusesAHeaderLongerThanTheFile()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => SafetensorsFile.Parse(bytes, "cases.safetensors"));

        Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, e.Code);
        StringAssert.Contains(e.Message, "cases.safetensors");
    }

    [TestMethod]
    public void Parse_RefusesOffsetsOutsideThePayload()
    {
        var good = SafetensorsWriter.Write([new SafetensorsTensor("t", TensorDType.F32, [2], new byte[8])]);
        var truncated = good[..^4];

        var e = Assert.ThrowsExactly<ModelBuildException>(() => SafetensorsFile.Parse(truncated));

        Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, e.Code);
    }

    [TestMethod]
    public void Data_OfAMissingTensor_IsACodedErrorNamingTheFile()
    {
        var cases = SafetensorsFile.Read(TestPaths.Fixture("mlp", "cases.safetensors"));

        var e = Assert.ThrowsExactly<ModelBuildException>(() => cases.Data("huge.in.0"));

        Assert.AreEqual(DiagnosticCodes.SafetensorsTensorMissing, e.Code);
        StringAssert.Contains(e.Message, "cases.safetensors");
        StringAssert.Contains(e.Message, "huge.in.0");
    }

    [TestMethod]
    [DataRow("[4294967296,4294967296]", "[0,0]", 0, DisplayName = "2^64 elements wrap to 0 bytes")]
    [DataRow("[4,4611686018427387905]", "[0,16]", 16, DisplayName = "4*(2^62+1) F32 elements wrap to the 16 bytes present")]
    [DataRow("[-1]", "[0,0]", 0, DisplayName = "a negative size")]
    [DataRow("[0,9223372036854775807,9223372036854775807]", "[0,0]", 0, DisplayName = "empty, but the other sizes overflow")]
    public void Parse_AShapeWhoseByteCountOverflows_IsMB4001(string shape, string offsets, int payload)
    {
        var bytes = EngineEditor.RawSafetensors($$$"""{"x":{"dtype":"F32","shape":{{{shape}}},"data_offsets":{{{offsets}}}}}""", new byte[payload]);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => SafetensorsFile.Parse(bytes, "in.safetensors"));

        Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, e.Code);
        StringAssert.StartsWith(e.Message, "MB4001: in.safetensors: ");
    }

    [TestMethod]
    [DataRow("""{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}""", "a gap or an overlap")]
    [DataRow("""{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}""", "a gap or an overlap")]
    [DataRow("""{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}""", "the tensors end at byte 2 of the payload, but it has 6")]
    [DataRow("""{"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]},"a":{"dtype":"U8","shape":[0],"data_offsets":[6,6]}}""", "names 'a' twice")]
    [DataRow("""{"__metadata__":{"format":null},"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]}}""", "'format' is not a string")]
    [DataRow("""{"a":{"dtype":"U8","shape":null,"data_offsets":[0,6]}}""", "arrays 'shape' and 'data_offsets'")]
    [DataRow("""{"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6,6]}}""", "3 data offsets")]
    [DataRow("""{"a":{"dtype":"U8","shape":[[[6]]],"data_offsets":[0,6]}}""", "not valid")]
    public void Parse_AHeaderThatDoesNotTileThePayload_IsMB4001(string header, string message)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => SafetensorsFile.Parse(EngineEditor.RawSafetensors(header, new byte[6]), "in.safetensors"));

        Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, e.Code);
        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void Read_AFileThatDoesNotExist_IsMB4015NamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.safetensors");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => SafetensorsFile.Read(path));

        Assert.AreEqual(DiagnosticCodes.SafetensorsFileUnreadable, e.Code);
        StringAssert.StartsWith(e.Message, $"MB4015: {path}: ");
    }
}
