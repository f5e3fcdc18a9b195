using System.Reflection;

namespace ModelBuild.Tests;

/// <summary>
/// Where the tests find the PyTorch fixtures and the repository, fixed at build time. Every path handed out lies inside
/// the repository: a clone is all the tests need (eng/fixtures/make_fixtures.py made the fixtures; they are committed).
/// </summary>
internal static class TestPaths
{
    /// <summary>
    /// The repository the build ran in, or MODELBUILD_REPO_ROOT: a published harness may run on a machine where the
    /// repository lies elsewhere (eng/gpu/fuzz-on-device.sh).
    /// </summary>
    public static string RepoRoot => Environment.GetEnvironmentVariable("MODELBUILD_REPO_ROOT") ?? BuiltRepoRoot;

    /// <summary>tests/fixtures/public: the eight public fixture models.</summary>
    public static string Fixtures => InRepository(Relocated(Metadata("ModelBuild.FixturesDir")));

    /// <summary>tests/fixtures/extra: the architectures users bring (torchvision CNNs, HF transformers, RNNs).</summary>
    public static string ExtraFixtures => InRepository(Relocated(Metadata("ModelBuild.ExtraFixturesDir")));

    private static string BuiltRepoRoot => Metadata("ModelBuild.RepoRoot");

    /// <summary>A hostile input of tests/fixtures/bad (made by make_bad_inputs.py there, or kept from a fuzz run).</summary>
    public static string BadInput(string name) => InRepository(Path.Combine(RepoRoot, "tests", "fixtures", "bad", name));

    /// <summary>A file of a public or an extra fixture model.</summary>
    public static string Fixture(string model, string file) =>
        InRepository(Path.Combine(Directory.Exists(Path.Combine(Fixtures, model)) ? Fixtures : ExtraFixtures, model, file));

    /// <summary>A file of a model of tests/fixtures/hop: one small model per feature (higher-order ops, asserts, input mutation...).</summary>
    public static string HopFixture(string model, string file) => InRepository(Path.Combine(RepoRoot, "tests", "fixtures", "hop", model, file));

    /// <summary>tests/fixtures/exportdb: PyTorch's ExportDB examples, a folder each, and index.json.</summary>
    public static string ExportDbFixtures => InRepository(Path.Combine(RepoRoot, "tests", "fixtures", "exportdb"));

    /// <summary>Whether the model has the file (the extra fixtures keep only model.pt2 and, where it exists, model.core.pt2).</summary>
    public static bool HasFixture(string model, string file) => File.Exists(Fixture(model, file));

    /// <summary>The eight public fixture models.</summary>
    public static IEnumerable<object[]> AllModels => ModelsIn(Fixtures);

    /// <summary>The extra fixture models of tests/fixtures/extra.</summary>
    public static IEnumerable<object[]> ExtraModels => ModelsIn(ExtraFixtures);

    /// <summary>The public and the extra fixture models.</summary>
    public static IEnumerable<object[]> AllModelsWithExtra => AllModels.Concat(ExtraModels);

    /// <summary>The path, made absolute; a test input outside the repository fails the test that asks for it.</summary>
    public static string InRepository(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetFullPath(RepoRoot);
        if (!full.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The test input '{full}' lies outside the repository '{root}'; a clone must hold every file its tests read.");
        }
        return full;
    }

    private static IEnumerable<object[]> ModelsIn(string folder) =>
        Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    /// <summary>A folder the build named under its repository, under <see cref="RepoRoot"/> instead.</summary>
    private static string Relocated(string folder) =>
        folder.StartsWith(BuiltRepoRoot, StringComparison.Ordinal) ? Path.Combine(RepoRoot, folder[BuiltRepoRoot.Length..]) : folder;

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
