using System.Reflection;

namespace ModelBuild.Tests;

/// <summary>Where the tests find the shared PyTorch fixtures and the repository, fixed at build time.</summary>
internal static class TestPaths
{
    /// <summary>../shared/fixtures/public beside the checkout, or MODELBUILD_FIXTURES when set.</summary>
    public static string Fixtures =>
        Environment.GetEnvironmentVariable("MODELBUILD_FIXTURES") is { Length: > 0 } env ? env : Metadata("ModelBuild.FixturesDir");

    public static string RepoRoot => Metadata("ModelBuild.RepoRoot");

    public static string Fixture(string model, string file) => Path.Combine(Fixtures, model, file);

    /// <summary>The eight public fixture models.</summary>
    public static IEnumerable<object[]> AllModels =>
        Directory.GetDirectories(Fixtures).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
