namespace ModelBuild.Sdk.IntegrationTests;

/// <summary>
/// dotnet new modelbuild-console from the packed ModelBuild.Templates, installed into a template hive of the workspace
/// (not the user's): the new project asks for its model, and with one added it builds and runs.
/// </summary>
[TestClass]
public sealed class TemplateTests
{
    [TestMethod]
    public void A_modelbuild_console_app_from_the_packed_template_builds_and_runs_once_its_model_is_added()
    {
        var hive = Path.Combine(IntegrationWorkspace.Root, "template-hive");
        var template = Path.Combine(IntegrationWorkspace.Feed, $"ModelBuild.Templates.{IntegrationWorkspace.Version}.nupkg");
        var install = Dotnet("new", "install", template, "--debug:custom-hive", hive);
        Assert.AreEqual(0, install.ExitCode, install.ToString());
        StringAssert.Contains(install.Output, "modelbuild-console");

        var directory = Path.Combine(IntegrationWorkspace.Root, "TemplateApp");
        var create = Dotnet("new", "modelbuild-console", "--name", "TemplateApp", "--output", directory, "--debug:custom-hive", hive);
        Assert.AreEqual(0, create.ExitCode, create.ToString());
        var project = TestProject.At(directory, "TemplateApp");
        StringAssert.Contains(File.ReadAllText(project.ProjectFile), $"<Sdk Name=\"ModelBuild.Sdk\" Version=\"{IntegrationWorkspace.Version}\" />");
        Assert.IsTrue(File.Exists(Path.Combine(directory, "models", "README.txt")), "the template says where the model goes");
        // The user's engine cache stays untouched; libtorch is linked, not copied, into the output.
        string[] properties = [$"-p:ModelBuildCacheDir={Path.Combine(directory, ".cache")}", "-p:CreateHardLinksForCopyLocalIfPossible=true"];

        var withoutModel = project.Build(properties);
        Assert.AreNotEqual(0, withoutModel.ExitCode, withoutModel.ToString());
        StringAssert.Contains(withoutModel.Output, $"{project.ProjectFile}({project.LineOf("models/model.pt2")}): error MB6001:");

        File.Copy(Path.Combine(IntegrationWorkspace.SampleModels, "small_cnn.pt2"), Path.Combine(directory, "models", "model.pt2"));
        var build = project.Build(properties);
        Assert.AreEqual(0, build.ExitCode, build.ToString());
        CollectionAssert.AreEqual(new[] { "MyModel" }, build.Compiled, build.ToString());

        var run = project.RunApp();
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Output, "model: compiled for cpu fp32");
        StringAssert.Contains(run.Output, "linear: [2, 10]");
    }

    private static ProcessResult Dotnet(params string[] arguments) => DotnetCli.Run(IntegrationWorkspace.Root, "dotnet", arguments);
}
