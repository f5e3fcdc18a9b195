using System.Text.RegularExpressions;
using ModelBuild.Runtime.Torch.Execution;
using ModelBuild.Tests;

namespace ModelBuild.Runtime.Torch.Tests.OpInfo;

/// <summary>
/// PyTorch's own op tests: every program of tests/fixtures/ops (one OpInfo sample each, core IR and training IR) runs
/// the way the compiler's reference does and must reproduce PyTorch's outputs, or be refused with a coded reason the
/// compiler would give too. One test per OpInfo family reports every failing program with its reason.
/// </summary>
[TestClass]
public sealed partial class OpInfoProgramTests
{
    /// <summary>Set to 1 to rewrite docs/ops-coverage.md from the results instead of comparing (eng/ops-coverage.sh).</summary>
    private const string WriteDocVariable = "MODELBUILD_WRITE_OPS_COVERAGE";

    /// <summary>Programs whose outputs differ from PyTorch's for a reason no kernel can remove; each must still differ.</summary>
    private static readonly Dictionary<string, string> KnownDeviations = new(StringComparer.Ordinal)
    {
        // Entries up to 9 in float32: PyTorch's own result differs from the float64 one by 1.3e-2, ours from PyTorch's by 1.6e-3.
        ["matrix_exp__default__1"] = "the float32 matrix exponential of an ill-conditioned input differs in rounding",
    };

    private static readonly Lazy<IReadOnlyList<OpRun>> AllRuns = new(() =>
        [.. OpProgramSuite.Instance.Programs.SelectMany(p => OpProgramRunner.RunAll(OpProgramSuite.Instance, p))]);

    public static IEnumerable<object[]> Families =>
        OpProgramSuite.Instance.Programs.Select(Family).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(f => new object[] { f });

    [TestMethod]
    [DynamicData(nameof(Families))]
    public void EveryProgramOfTheFamily_ReproducesPyTorchOrIsRefusedWithACode(string family)
    {
        var runs = AllRuns.Value.Where(r => Family(r.Program) == family).ToList();

        var failures = runs.Where(r => r.Outcome == OpOutcome.Failed && !KnownDeviations.ContainsKey(r.Program.Id)).ToList();

        Assert.IsNotEmpty(runs);
        Assert.IsEmpty(failures, $"{failures.Count} of {runs.Count} program files of {family} fail:\n{string.Join("\n", failures)}");
        Assert.IsTrue(runs.Where(r => r.Outcome == OpOutcome.Unsupported).All(r => CodedReason().IsMatch(r.Reason!)),
            "every refusal names a diagnostic code or the kernel's reason");
    }

    [TestMethod]
    public void KnownDeviations_StillDiffer()
    {
        foreach (var (id, why) in KnownDeviations)
        {
            var runs = AllRuns.Value.Where(r => r.Program.Id == id).ToList();
            Assert.IsNotEmpty(runs, id);
            Assert.IsTrue(runs.All(r => r.Outcome == OpOutcome.Failed), $"{id} ({why}) now reproduces PyTorch: drop it from KnownDeviations");
        }
    }

    [TestMethod]
    public void CoverageDoc_MatchesTheResults()
    {
        var doc = Path.Combine(TestPaths.RepoRoot, "docs", "ops-coverage.md");
        var expected = Coverage().Render();
        if (Environment.GetEnvironmentVariable(WriteDocVariable) == "1")
        {
            File.WriteAllText(doc, expected);
            return;
        }

        Assert.AreEqual(expected, File.ReadAllText(TestPaths.InRepository(doc)),
            $"docs/ops-coverage.md disagrees with the results: run eng/ops-coverage.sh and commit the file");
    }

    [TestMethod]
    public void CoreOps_AtLeast95PercentOfThoseSamplesReach_Pass()
    {
        var core = Coverage().CoreOps.ToList();
        var reached = core.Where(o => o.Ran > 0 || o.Refused.Count > 0).ToList();

        var passing = reached.Count(o => o.Passes);

        Assert.HasCount(OpProgramSuite.Instance.CoreOps.Count, core);
        Assert.IsGreaterThanOrEqualTo(0.95 * reached.Count, passing,
            $"{passing} of {reached.Count} reached core ops pass; failing: {string.Join(", ", reached.Where(o => !o.Passes).Select(o => o.Op))}");
    }

    /// <summary>Torch-TensorRT's rule: every registered kernel runs in some test, here an OpInfo program or a unit test.</summary>
    [TestMethod]
    public void EveryKernel_IsExercisedByAProgramOrAUnitTest()
    {
        var programs = AllRuns.Value.Where(r => r.Outcome == OpOutcome.Passed).SelectMany(r => r.Targets).ToHashSet(StringComparer.Ordinal);
        var unitTested = UnitTestedTargets();

        var unexercised = OpKernels.SupportedTargets.Select(OpProgramRunner.Short)
            .Where(t => !programs.Contains(t) && !unitTested.Contains(t)).Order(StringComparer.Ordinal).ToList();

        Assert.IsEmpty(unexercised, $"kernels no test runs: {string.Join(", ", unexercised)}");
    }

    private static OpCoverage Coverage() => new(OpProgramSuite.Instance, AllRuns.Value, UnitTestedTargets());

    /// <summary>Programs by OpInfo namespace: torch, nn.functional, linalg, special, fft, masked, signal, and the direct aten calls.</summary>
    private static string Family(OpProgram program) =>
        program.Id.StartsWith("direct__", StringComparison.Ordinal) ? "direct aten calls"
        : program.OpInfo.StartsWith("nn.functional.", StringComparison.Ordinal) ? "nn.functional"
        : program.OpInfo.Contains('.', StringComparison.Ordinal) ? program.OpInfo[..program.OpInfo.IndexOf('.', StringComparison.Ordinal)]
        : "torch";

    /// <summary>
    /// The targets the kernel unit tests of this project name: literals (<c>"aten.celu.default"</c>, <c>"torch.sym_not"</c>,
    /// <c>"torch.ops.higher_order.cond"</c>), and targets a data
    /// row completes (<c>$"aten.{op}.Tensor"</c> with <c>[DataRow("__and__")]</c>).
    /// </summary>
    private static HashSet<string> UnitTestedTargets()
    {
        var folder = TestPaths.InRepository(Path.Combine(TestPaths.RepoRoot, "tests", "ModelBuild.Runtime.Torch.Tests"));
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in Directory.GetFiles(folder, "*KernelTests.cs").Select(File.ReadAllText))
        {
            targets.UnionWith(TargetLiteral().Matches(source).Select(m => m.Groups[1].Value));
            var rows = DataRowString().Matches(source).Select(m => m.Groups[1].Value).ToList();
            targets.UnionWith(TargetTemplate().Matches(source).SelectMany(m => rows.Select(r => $"aten.{r}.{m.Groups[1].Value}")));
        }

        return targets;
    }

    [GeneratedRegex("\"(?:torch\\.ops\\.)?((?:aten|_operator|torch|math|higher_order)\\.[A-Za-z0-9_]+(?:\\.[A-Za-z0-9_]+)?)\"")]
    private static partial Regex TargetLiteral();

    [GeneratedRegex("\\$\"aten\\.\\{[A-Za-z]+\\}\\.([A-Za-z0-9_]+)\"")]
    private static partial Regex TargetTemplate();

    [GeneratedRegex("\\[DataRow\\(\"([A-Za-z0-9_]+)\"")]
    private static partial Regex DataRowString();

    [GeneratedRegex("^(MB\\d{4}: |aten\\.)")]
    private static partial Regex CodedReason();
}
