using Microsoft.Build.Utilities;
using ModelBuild.Diagnostics;
using ModelBuild.Tasks;
using ModelBuild.Tests;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ResolveModelCompileItemsTests
{
    private string _dir = "";
    private string _project = "";

    [TestInitialize]
    public void CreateProject()
    {
        _dir = Directory.CreateTempSubdirectory("mb-resolve-").FullName;
        _project = Path.Combine(_dir, "app.csproj");
        File.WriteAllText(_project, """
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <ModelCompile Include="models/mlp.pt2" />
                <ModelCompile Include="models/missing.pt2" />
              </ItemGroup>
            </Project>
            """);
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        File.Copy(TestPaths.Fixture("mlp", "model.pt2"), Path.Combine(_dir, "models", "mlp.pt2"));
    }

    [TestCleanup]
    public void DeleteProject() => Directory.Delete(_dir, recursive: true);

    private TaskItem Item(string spec, string device = "cpu")
    {
        var item = new TaskItem(Path.Combine(_dir, spec));
        item.SetMetadata("Device", device);
        item.SetMetadata("Precision", "fp32");
        item.SetMetadata("Namespace", "App.Models");
        item.SetMetadata("DeclaringFile", _project);
        return item;
    }

    private (ResolveModelCompileItems Task, RecordingBuildEngine Log) Run(params TaskItem[] items)
    {
        var engine = new RecordingBuildEngine();
        var task = new ResolveModelCompileItems { BuildEngine = engine, Items = items, IntermediateDirectory = Path.Combine(_dir, "obj"), ProjectFile = _project };
        task.Execute();
        return (task, engine);
    }

    [TestMethod]
    public void Outputs_are_predicted_from_the_class_name()
    {
        var (task, log) = Run(Item("models/mlp.pt2"));
        Assert.IsEmpty(log.Errors);
        var item = task.ResolvedItems.Single();
        Assert.AreEqual("Mlp", item.GetMetadata("ClassName"));
        Assert.AreEqual(Path.Combine(_dir, "obj", "Mlp.engine"), item.GetMetadata("EngineFile"));
        Assert.AreEqual("App.Models.Mlp.engine", item.GetMetadata("EngineLocation"));
        Assert.AreEqual("true", item.GetMetadata("Embed"));
    }

    [TestMethod]
    public void A_class_name_that_is_also_a_member_of_the_accessor_is_refused_with_MB6006()
    {
        File.Copy(Path.Combine(_dir, "models", "mlp.pt2"), Path.Combine(_dir, "models", "model.pt2"));

        var (task, log) = Run(Item("models/model.pt2"));

        Assert.IsEmpty(task.ResolvedItems);
        var error = log.Errors.Single();
        Assert.AreEqual(DiagnosticCodes.InvalidAccessorName, error.Code);
        StringAssert.Contains(error.Message, "'Model' (from the file name)");
        StringAssert.Contains(error.Message, "ClassName=\"ModelEngine\"");
    }

    [TestMethod]
    public void The_stamp_is_rewritten_only_when_the_options_change()
    {
        var (task, _) = Run(Item("models/mlp.pt2"));
        var stamp = task.ResolvedItems.Single().GetMetadata("StampFile");
        var first = File.GetLastWriteTimeUtc(stamp);
        File.SetLastWriteTimeUtc(stamp, first.AddHours(-1));

        Run(Item("models/mlp.pt2"));
        Assert.AreEqual(first.AddHours(-1), File.GetLastWriteTimeUtc(stamp));

        Run(Item("models/mlp.pt2", device: "cuda"));
        Assert.IsTrue(File.GetLastWriteTimeUtc(stamp) > first.AddHours(-1));
        StringAssert.Contains(File.ReadAllText(stamp), "device=cuda");
    }

    [TestMethod]
    public void Changed_options_fail_a_question_build()
    {
        Run(Item("models/mlp.pt2"));
        var engine = new RecordingBuildEngine();
        var task = new ResolveModelCompileItems
        {
            BuildEngine = engine, Items = [Item("models/mlp.pt2", device: "cuda")], IntermediateDirectory = Path.Combine(_dir, "obj"),
            ProjectFile = _project, FailIfNotIncremental = true,
        };
        Assert.IsFalse(task.Execute());
        Assert.AreEqual(DiagnosticCodes.ModelCompileOutOfDate, engine.Errors.Single().Code);
    }

    [TestMethod]
    public void A_missing_model_is_MB6001_at_the_line_of_its_item()
    {
        var (_, log) = Run(Item("models/mlp.pt2"), Item("models/missing.pt2"));
        var error = log.Errors.Single();
        Assert.AreEqual(DiagnosticCodes.ModelCompileFileMissing, error.Code);
        Assert.AreEqual(_project, error.File);
        Assert.AreEqual(4, error.LineNumber);
    }

    [TestMethod]
    public void An_unknown_device_is_MB6002_at_the_line_of_its_item()
    {
        var (_, log) = Run(Item("models/mlp.pt2", device: "tpu"));
        var error = log.Errors.Single();
        Assert.AreEqual(DiagnosticCodes.UnknownDevice, error.Code);
        Assert.AreEqual(3, error.LineNumber);
    }

    [TestMethod]
    public void Two_items_with_one_class_name_are_MB6007()
    {
        var other = Item("models/mlp.pt2");
        var (_, log) = Run(Item("models/mlp.pt2"), other);
        Assert.AreEqual(DiagnosticCodes.DuplicateAccessorName, log.Errors.Single().Code);
    }
}
