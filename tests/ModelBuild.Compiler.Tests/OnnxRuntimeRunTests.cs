using Google.Protobuf;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Onnx.Proto;
using ModelBuild.Runtime;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// How an ONNX Runtime block runs through the C API: outputs are host tensors over ONNX Runtime's buffers that outlive
/// the model, concurrent runs do not share state, and what ONNX Runtime refuses at load or at run is a coded error
/// carrying its message.
/// </summary>
[TestClass]
public sealed class OnnxRuntimeRunTests
{
    private const string Model = "mlp";

    private static readonly Lazy<CompiledEngine> Engine = new(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(Model, "model.pt2"))
    {
        Name = Model,
        Backend = "onnxruntime",
        CasesPath = TestPaths.Fixture(Model, "cases.safetensors"),
    }));

    private static readonly SafetensorsFile Cases = SafetensorsFile.Read(TestPaths.Fixture(Model, "cases.safetensors"));

    [TestMethod]
    public void Outputs_ReproducePyTorch_AndOutliveTheModel()
    {
        HostTensor output;
        using (var model = CompiledModel.Load(Engine.Value.Bytes, Model))
        {
            CollectionAssert.AreEqual(new[] { "onnxruntime" }, model.Backends.ToList());
            output = model.Run(Case("opt"))[0];
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();

        var expected = Tensor("opt.out.0");
        CollectionAssert.AreEqual(expected.Shape.ToList(), output.Shape.ToList());
        Assert.IsLessThan(1e-5, MaxAbsDifference(expected, output));
        output.Dispose();
    }

    /// <summary>Outputs nobody disposes are released by the collector, also after their session is gone.</summary>
    [TestMethod]
    public void OutputsNeverDisposed_AreReleasedWhenCollected()
    {
        var model = CompiledModel.Load(Engine.Value.Bytes, Model);
        var weak = RunAndDrop(model);
        model.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.IsFalse(weak.IsAlive);

        static WeakReference RunAndDrop(CompiledModel model)
        {
            for (var i = 0; i < 100; i++)
            {
                _ = model.Run(Case("min"));
            }
            return new WeakReference(model.Run(Case("max"))[0]);
        }
    }

    [TestMethod]
    public void ConcurrentRuns_GiveWhatSequentialRunsGive()
    {
        using var model = CompiledModel.Load(Engine.Value.Bytes, Model);
        var inputs = Enumerable.Range(1, 4).Select(k => Scaled(Case("opt"), k)).ToArray();
        var expected = inputs.Select(input => model.Run(input)[0].ToArray<float>()).ToArray();

        var differences = new float[inputs.Length];
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = inputs.Length }, k =>
        {
            for (var run = 0; run < 50; run++)
            {
                using var output = model.Run(inputs[k])[0];
                var actual = output.ToArray<float>();
                differences[k] = Math.Max(differences[k], actual.Zip(expected[k], (a, e) => Math.Abs(a - e)).Max());
            }
        });

        Assert.IsTrue(differences.All(d => d <= 1e-5f), string.Join(", ", differences));
    }

    [TestMethod]
    public void ABlockOnnxRuntimeCannotLoad_IsMB7004WithItsMessage()
    {
        var engine = WithPayload(_ => [1, 2, 3, 4]);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(engine, "broken"));

        Assert.AreEqual(DiagnosticCodes.OnnxSessionFailed, e.Code, e.Message);
        StringAssert.Contains(e.Message, "ONNX Runtime could not load the block: ");
        Assert.IsGreaterThan(45, e.Message.Length, "ONNX Runtime's own words follow");
    }

    /// <summary>
    /// The payload's hash is checked before ONNX Runtime reads the block: a changed payload is what the load reports.
    /// (Checking it while the backends prepared saved a tenth of a large model's load, but libtorch aborts the process
    /// on some changed TorchScript payloads, which the fuzz sample found at once.)
    /// </summary>
    [TestMethod]
    public void AChangedOnnxPayload_IsReportedAsAChangedPayload_NotAsWhatOnnxRuntimeMadeOfIt()
    {
        var bytes = (byte[])Engine.Value.Bytes.Clone();
        var file = EngineFile.Read(bytes, Model, CompiledModel.RuntimeVersion);
        Assert.IsTrue(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(file.Tensors.Data(file.Plan.Blocks.Single().Payload!), out var payload));
        Array.Fill(bytes, (byte)0xff, payload.Offset, 16);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => CompiledModel.Load(bytes, "changed"));

        Assert.AreEqual(DiagnosticCodes.EnginePayloadTampered, e.Code, e.Message);
    }

    /// <summary>A block whose ONNX input is fixed where the engine's range is not: the range check passes, ONNX Runtime refuses.</summary>
    [TestMethod]
    public void ARunOnnxRuntimeRefuses_IsMB7005WithItsMessage_AndTheModelRunsOn()
    {
        var batch = Case("opt")[0].Shape[0];
        var engine = WithPayload(bytes =>
        {
            var onnx = ModelProto.Parser.ParseFrom(bytes);
            onnx.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimValue = batch + 1;
            return onnx.ToByteArray();
        });
        using var model = CompiledModel.Load(engine, "fixed");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => model.Run(Case("opt")));

        Assert.AreEqual(DiagnosticCodes.OnnxRunFailed, e.Code, e.Message);
        StringAssert.Contains(e.Message, $"[{batch}, 32] F32");
        StringAssert.Contains(e.Message, "dimensions");
        var fits = Scaled(HostTensor.Zeros(TensorDType.F32, batch + 1, 32), 1);
        using var output = model.Run(fits)[0];
        Assert.AreEqual(batch + 1, output.Shape[0]);
    }

    private static byte[] WithPayload(Func<byte[], byte[]> change)
    {
        var file = EngineFile.Read(Engine.Value.Bytes, Model, CompiledModel.RuntimeVersion);
        var payload = file.Plan.Blocks.Single().Payload!;
        var changed = change(file.Tensors.Data(payload).ToArray());
        var tensors = file.Tensors.Tensors.Values.Select(t => t.Name == payload
            ? new SafetensorsTensor(t.Name, TensorDType.U8, [changed.Length], changed)
            : new SafetensorsTensor(t.Name, t.DType, t.Shape, file.Tensors.Data(t.Name))).ToList();
        return EngineFile.Write(file.Manifest, file.Plan, tensors);
    }

    private static HostTensor[] Case(string name) => [Tensor($"{name}.in.0")];

    private static HostTensor Tensor(string name) => HostTensor.FromBytes(Cases.Entry(name).DType, Cases.Entry(name).Shape, Cases.Data(name).ToArray());

    private static HostTensor[] Scaled(HostTensor[] inputs, float factor) => [Scaled(inputs[0], factor)];

    private static HostTensor Scaled(HostTensor input, float factor) =>
        HostTensor.From<float>([.. input.AsSpan<float>().ToArray().Select((x, i) => x * factor + i % 7 * 0.01f)], [.. input.Shape]);

    private static float MaxAbsDifference(HostTensor expected, HostTensor actual) =>
        expected.AsSpan<float>().ToArray().Zip(actual.AsSpan<float>().ToArray(), (e, a) => Math.Abs(e - a)).Max();
}
