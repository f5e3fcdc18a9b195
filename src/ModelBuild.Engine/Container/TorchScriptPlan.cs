using ModelBuild.Engine.Graph;

namespace ModelBuild.Engine.Container;

/// <summary>
/// The plan of an engine compiled from TorchScript, which has no graph to lower: one node that runs the module's
/// <c>forward</c>, whose bytes the engine holds as the U8 tensor <see cref="ModuleWeight"/>.
/// </summary>
public static class TorchScriptPlan
{
    /// <summary>The target of the plan's one node.</summary>
    public const string Target = "modelbuild.torchscript.forward";
    /// <summary>The name of the U8 tensor that holds the TorchScript archive's bytes.</summary>
    public const string ModuleWeight = "torchscript_module";

    /// <summary>The plan that runs the module's forward on <paramref name="inputs"/>, producing <paramref name="outputs"/>, on <paramref name="device"/>.</summary>
    public static ExecutionPlan Create(IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string device) =>
        new(inputs, outputs, [ModuleWeight],
            [new GraphNode(Target,
                [new NamedArgument("module", new TensorArg(ModuleWeight)), .. inputs.Select(i => new NamedArgument(i, new TensorArg(i)))],
                [.. outputs.Select(o => new TensorArg(o))])],
            [[]])
        { Device = device };

    /// <summary>Whether <paramref name="plan"/> is such a plan.</summary>
    public static bool IsTorchScript(ExecutionPlan plan) => plan.Nodes is [{ Target: Target }];
}
