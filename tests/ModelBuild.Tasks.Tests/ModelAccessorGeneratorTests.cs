using ModelBuild.Diagnostics;
using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ModelAccessorGeneratorTests
{
    private static EngineSignature Read(ModelBuild.Engine.Manifest.EngineManifest manifest)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.engine");
        try
        {
            return EngineManifestReader.Read(TestEngines.Write(manifest, path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void The_manifest_is_read_from_the_engine_header()
    {
        var engine = Read(TestEngines.SmallCnn());
        Assert.AreEqual("small_cnn", engine.Name);
        Assert.AreEqual("cpu", engine.Device);
        Assert.AreEqual("x", engine.Inputs.Single().Name);
        CollectionAssert.AreEqual(new[] { "s77", "3", "8*s69", "8*s81" }, engine.Inputs.Single().Dims.ToArray());
        Assert.AreEqual(new EngineSymbolRange(1, 2, 32), engine.Symbols["s77"]);
        Assert.AreEqual(128, engine.Relations["8*s69"].Max);
    }

    [TestMethod]
    public void A_file_without_a_manifest_is_MB6012()
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.engine");
        File.WriteAllBytes(path, ModelBuild.Engine.Safetensors.SafetensorsWriter.Write([]));
        try
        {
            var e = Assert.ThrowsExactly<ModelBuildException>(() => EngineManifestReader.Read(path));
            Assert.AreEqual(DiagnosticCodes.EngineManifestUnreadable, e.Code);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Run_takes_the_inputs_by_name_and_the_docs_list_dims_with_ranges()
    {
        var code = ModelAccessorGenerator.Generate(Read(TestEngines.SmallCnn()), "App.Models", "Classifier", "models/classifier.pt2",
            new EngineLocation(true, "App.Models.Classifier.engine"), "0.1.0");
        StringAssert.Contains(code, "namespace App.Models");
        StringAssert.Contains(code, "public sealed partial class Classifier : global::System.IDisposable");
        StringAssert.Contains(code, "public global::ModelBuild.Runtime.HostTensor Run(global::ModelBuild.Runtime.HostTensor x) => model.Run(x)[0];");
        StringAssert.Contains(code, "public global::TorchSharp.torch.Tensor Run(global::TorchSharp.torch.Tensor x) => global::ModelBuild.Runtime.Torch.TorchModelExtensions.Run(model, x)[0];");
        StringAssert.Contains(code, "CompiledModel.Load(typeof(Classifier).Assembly, ResourceName, device)");
        StringAssert.Contains(code, "public const string ResourceName = \"App.Models.Classifier.engine\";");
        StringAssert.Contains(code, "<param name=\"x\"><c>x</c>: F32 [s77 (1..32), 3, 8*s69 (16..128), 8*s81 (16..128)]</param>");
        StringAssert.Contains(code, "<c>s69</c>: 2..16 (opt 4)");
    }

    [TestMethod]
    public void Several_outputs_come_back_as_properties_named_as_in_the_model()
    {
        var code = ModelAccessorGenerator.Generate(Read(TestEngines.MultiIo()), "M", "Pair", "pair.pt2", new EngineLocation(false, "models/Pair.engine"), "0.1.0");
        StringAssert.Contains(code, "public Outputs<global::TorchSharp.torch.Tensor> Run(global::TorchSharp.torch.Tensor a, global::TorchSharp.torch.Tensor b)");
        StringAssert.Contains(code, "public Outputs<global::ModelBuild.Runtime.HostTensor> Run(global::ModelBuild.Runtime.HostTensor a, global::ModelBuild.Runtime.HostTensor b)");
        StringAssert.Contains(code, "public TTensor sum { get; }");
        StringAssert.Contains(code, "public TTensor @class { get; }");
        StringAssert.Contains(code, "public const string EngineFileName = \"models/Pair.engine\";");
        StringAssert.Contains(code, "global::System.IO.Path.Combine(EngineDirectory(), EngineFileName)");
    }

    [TestMethod]
    public void Without_the_torch_runtime_the_accessor_speaks_host_tensors_only()
    {
        var code = ModelAccessorGenerator.Generate(Read(TestEngines.SmallCnn()), "App.Models", "Classifier", "models/classifier.pt2",
            new EngineLocation(true, "App.Models.Classifier.engine"), "0.1.0", torchApi: false);

        StringAssert.Contains(code, "public global::ModelBuild.Runtime.HostTensor Run(global::ModelBuild.Runtime.HostTensor x)");
        Assert.DoesNotContain("TorchSharp", code);
    }

    [TestMethod]
    [DataRow("small_cnn", "SmallCnn")]
    [DataRow("seed-linear.dynamic", "SeedLinearDynamic")]
    [DataRow("3d_net", "Model3dNet")]
    public void Class_names_come_from_file_names(string file, string className) =>
        Assert.AreEqual(className, ModelAccessorGenerator.ClassNameFromFile(file));
}
