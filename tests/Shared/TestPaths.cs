using System.Reflection;

namespace ModelBuild.Tests;

/// <summary>Where the tests find the PyTorch fixtures and the repository, fixed at build time.</summary>
internal static class TestPaths
{
    /// <summary>../shared/fixtures/public beside the checkout, or MODELBUILD_FIXTURES when set.</summary>
    public static string Fixtures =>
        Environment.GetEnvironmentVariable("MODELBUILD_FIXTURES") is { Length: > 0 } env ? env : Metadata("ModelBuild.FixturesDir");

    /// <summary>
    /// tests/fixtures/extra of the repository: the architectures users bring (torchvision CNNs, HF transformers, RNNs);
    /// MODELBUILD_EXTRA_FIXTURES when set (a harness published to another machine).
    /// </summary>
    public static string ExtraFixtures =>
        Environment.GetEnvironmentVariable("MODELBUILD_EXTRA_FIXTURES") is { Length: > 0 } env ? env : Metadata("ModelBuild.ExtraFixturesDir");

    public static string RepoRoot => Metadata("ModelBuild.RepoRoot");

    /// <summary>A hostile input of tests/fixtures/bad (made by make_bad_inputs.py there, or kept from a fuzz run).</summary>
    public static string BadInput(string name) => Path.Combine(RepoRoot, "tests", "fixtures", "bad", name);

    /// <summary>A file of a public or an extra fixture model.</summary>
    public static string Fixture(string model, string file) =>
        Path.Combine(Directory.Exists(Path.Combine(Fixtures, model)) ? Fixtures : ExtraFixtures, model, file);

    /// <summary>Whether the model has the file (the extra fixtures keep only model.pt2 and, where it exists, model.core.pt2).</summary>
    public static bool HasFixture(string model, string file) => File.Exists(Fixture(model, file));

    /// <summary>The eight public fixture models.</summary>
    public static IEnumerable<object[]> AllModels => ModelsIn(Fixtures);

    /// <summary>The extra fixture models of tests/fixtures/extra.</summary>
    public static IEnumerable<object[]> ExtraModels => ModelsIn(ExtraFixtures);

    /// <summary>The public and the extra fixture models.</summary>
    public static IEnumerable<object[]> AllModelsWithExtra => AllModels.Concat(ExtraModels);

    private static IEnumerable<object[]> ModelsIn(string folder) =>
        Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
