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
}
