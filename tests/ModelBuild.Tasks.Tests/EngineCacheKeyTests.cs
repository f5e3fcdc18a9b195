using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class EngineCacheKeyTests
{
    private static readonly ModelCompileOptions Cpu = ModelCompileOptions.Parse("m.pt2", "cpu", "fp32", "x:0=1..8..64", "", "m");
    private const string Model = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [TestMethod]
    public void Same_inputs_give_the_same_key()
    {
        var again = ModelCompileOptions.Parse("elsewhere/m.pt2", "CPU", "fp32", "x:0=1..8..64", "", "m");
        Assert.AreEqual(EngineCacheKey.Compute(Model, Cpu, "0.1.0+abc", "2.10.0"), EngineCacheKey.Compute(Model, again, "0.1.0+abc", "2.10.0"));
    }

    [TestMethod]
    public void Every_input_of_the_engine_changes_the_key()
    {
        var key = EngineCacheKey.Compute(Model, Cpu, "0.1.0+abc", "2.10.0");
        var others = new[]
        {
            EngineCacheKey.Compute(Model.Replace('9', '8'), Cpu, "0.1.0+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, ModelCompileOptions.Parse("m.pt2", "cuda", "fp32", "x:0=1..8..64", "", "m"), "0.1.0+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, ModelCompileOptions.Parse("m.pt2", "cpu", "bf16", "x:0=1..8..64", "", "m"), "0.1.0+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, ModelCompileOptions.Parse("m.pt2", "cpu", "fp32", "x:0=1..16..64", "", "m"), "0.1.0+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, ModelCompileOptions.Parse("m.pt2", "cpu", "fp32", "x:0=1..8..64", "1e-3", "m"), "0.1.0+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, Cpu, "0.1.1+abc", "2.10.0"),
            EngineCacheKey.Compute(Model, Cpu, "0.1.0+abc", "2.11.0"),
        };
        foreach (var other in others)
        {
            Assert.AreNotEqual(key, other);
        }
        Assert.AreEqual(others.Length, others.Distinct().Count());
    }

    [TestMethod]
    public void The_key_is_lowercase_sha256_hex()
    {
        StringAssert.Matches(EngineCacheKey.Compute(Model, Cpu, "v", "l"), new System.Text.RegularExpressions.Regex("^[0-9a-f]{64}$"));
    }
}
