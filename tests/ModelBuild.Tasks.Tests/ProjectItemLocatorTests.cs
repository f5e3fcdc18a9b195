using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class ProjectItemLocatorTests
{
    private const string Project = """
        <Project Sdk="Microsoft.NET.Sdk">
          <Sdk Name="ModelBuild.Sdk" />
          <ItemGroup>
            <ModelCompile Include="models/a.pt2" />
            <ModelCompile Include="models\b.pt2;models/c.pt2"
                          Device="cpu" />
            <ModelCompile Include="more/*.pt2" />
            <ModelCompile Include="$(ModelsDir)d.pt2" />
            <ModelCompile Update="models/a.pt2" Device="cuda" />
          </ItemGroup>
        </Project>
        """;

    private static string Write()
    {
        var path = Path.Combine(Path.GetTempPath(), $"locator-{Guid.NewGuid():N}.csproj");
        File.WriteAllText(path, Project);
        return path;
    }

    [TestMethod]
    [DataRow("models/a.pt2", 4)]
    [DataRow("models/b.pt2", 5)]
    [DataRow("models\\c.pt2", 5)]
    [DataRow("more/e.pt2", 7)]
    [DataRow("/abs/models/d.pt2", 8)]
    [DataRow("other/z.pt2", 0)]
    public void Finds_the_line_that_declared_the_item(string itemSpec, int line)
    {
        var path = Write();
        try
        {
            Assert.AreEqual(line, ProjectItemLocator.FindLine(path, "ModelCompile", itemSpec));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void A_missing_project_gives_line_zero()
    {
        Assert.AreEqual(0, ProjectItemLocator.FindLine("/no/such.csproj", "ModelCompile", "a.pt2"));
    }
}
