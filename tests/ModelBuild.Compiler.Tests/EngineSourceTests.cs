using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// Where an engine's bytes come from: a file of 64 KiB or more is mapped for the load only (a rewrite while the model
/// runs cannot pull its memory away), a smaller one read; native memory (an embedded resource's stream) is read in
/// place, other streams are read once. Each gives the model the bytes give.
/// </summary>
[TestClass]
public sealed class EngineSourceTests
{
    /// <summary>transformer_block's engines (120 KB) are mapped, mlp's (19 KB) read.</summary>
    public static IEnumerable<object[]> ModelsAndBackends =>
        from model in new[] { "transformer_block", "mlp" } from backend in new[] { "torch", "onnxruntime" } select new object[] { model, backend };

    [TestMethod]
    [DynamicData(nameof(ModelsAndBackends))]
    public void Load_FromAFile_RunsOnAfterTheFileIsTruncatedAndRewritten(string model, string backend)
    {
        var bytes = Engine(model, backend);
        Assert.AreEqual(model == "transformer_block", bytes.Length >= 64 * 1024, "the two sizes either side of mapping");
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-test-{Guid.NewGuid():N}.mbengine");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var fromFile = CompiledModel.Load(path);
            // The same file, truncated and rewritten in place (as a copy over it does): had the model kept the mapping,
            // reading the truncated pages would kill the process (SIGBUS).
            File.WriteAllBytes(path, []);
            File.WriteAllBytes(path, "another build's output"u8.ToArray());

            CollectionAssert.AreEqual(Outputs(model, CompiledModel.Load(bytes, model)), Outputs(model, fromFile));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public unsafe void Load_FromNativeMemory_ReadsItInPlace_ToTheStreamsEnd()
    {
        var bytes = Engine("mlp", "onnxruntime");
        fixed (byte* pointer = bytes)
        {
            using var stream = new UnmanagedMemoryStream(pointer, bytes.Length);

            using var model = CompiledModel.Load(stream, name: "mlp");

            Assert.AreEqual(stream.Length, stream.Position);
            CollectionAssert.AreEqual(Outputs("mlp", CompiledModel.Load(bytes, "mlp")), Outputs("mlp", model));
        }
    }

    [TestMethod]
    public void Load_FromAStreamThatCannotSeek_ReadsItToTheEnd()
    {
        var bytes = Engine("mlp", "torch");
        using var stream = new ForwardOnlyStream(bytes);

        using var model = CompiledModel.Load(stream, name: "mlp");

        CollectionAssert.AreEqual(Outputs("mlp", CompiledModel.Load(bytes, "mlp")), Outputs("mlp", model));
    }

    [TestMethod]
    public void Load_AnEmptyFile_IsMalformed_AndAMissingOneUnreadable_BothNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-test-{Guid.NewGuid():N}.mbengine");
        File.WriteAllBytes(path, []);
        try
        {
            var empty = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(path));
            Assert.AreEqual(DiagnosticCodes.SafetensorsMalformed, empty.Code);
            StringAssert.Contains(empty.Message, path);
        }
        finally
        {
            File.Delete(path);
        }

        var missing = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(path));
        Assert.AreEqual(DiagnosticCodes.SafetensorsFileUnreadable, missing.Code);
        StringAssert.Contains(missing.Message, path);
    }

    private static byte[] Engine(string model, string backend) => backend == "torch"
        ? FixtureEngines.Get(model, "model.pt2").Bytes
        : ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(model, "model.pt2")) { Name = model, Backend = backend }).Bytes;

    /// <summary>The compiled model's output at fixture <paramref name="fixture"/>'s opt case (the model is disposed).</summary>
    private static byte[] Outputs(string fixture, CompiledModel model)
    {
        using (model)
        {
            var cases = SafetensorsFile.Read(TestPaths.Fixture(fixture, "cases.safetensors"));
            var input = HostTensor.FromBytes(cases.Entry("opt.in.0").DType, cases.Entry("opt.in.0").Shape, cases.Data("opt.in.0").ToArray());
            using var output = model.Run(input).Single();
            return output.Bytes.ToArray();
        }
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
