using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

/// <summary>A clone holds every fixture its tests read (issue: a bare clone passes its own tests).</summary>
[TestClass]
public sealed class RepositoryFixtureTests
{
    [TestMethod]
    public void FixtureFolders_LieInsideTheRepository_AndHoldEveryModel()
    {
        var root = Path.GetFullPath(TestPaths.RepoRoot);
        foreach (var folder in new[] { TestPaths.Fixtures, TestPaths.ExtraFixtures })
        {
            StringAssert.StartsWith(Path.GetFullPath(folder), root);
        }
        var models = TestPaths.AllModelsWithExtra.Select(m => (string)m[0]).ToList();
        Assert.HasCount(15, models);
        foreach (var model in models)
        {
            foreach (var file in new[] { "model.pt2", "cases.safetensors", "fixture.json" })
            {
                Assert.IsTrue(TestPaths.HasFixture(model, file), $"{model}/{file} is missing from the repository");
            }
        }
    }

    [TestMethod]
    public void APathOutsideTheRepository_FailsTheTestThatAsksForIt()
    {
        var outside = Path.Combine(TestPaths.RepoRoot, "..", "shared", "fixtures", "public");

        var e = Assert.ThrowsExactly<InvalidOperationException>(() => TestPaths.InRepository(outside));

        StringAssert.Contains(e.Message, "outside the repository");
    }
}
