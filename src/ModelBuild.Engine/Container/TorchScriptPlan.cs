using ModelBuild.Engine.Graph;

namespace ModelBuild.Engine.Container;

/// <summary>
/// The plan of an engine compiled from TorchScript, which has no graph to lower: one node that runs the module's
/// <c>forward</c>, whose bytes the engine holds as the U8 tensor <see cref="ModuleWeight"/>.
/// </summary>
public static class TorchScriptPlan
{
    public const string Target = "modelbuild.torchscript.forward";
    public const string ModuleWeight = "torchscript_module";

    public static ExecutionPlan Create(IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string device) =>
        new(inputs, outputs, [ModuleWeight],
            [new GraphNode(Target,
                [new NamedArgument("module", new TensorArg(ModuleWeight)), .. inputs.Select(i => new NamedArgument(i, new TensorArg(i)))],
                [.. outputs.Select(o => new TensorArg(o))])],
            [[]])
        { Device = device };

    public static bool IsTorchScript(ExecutionPlan plan) => plan.Nodes is [{ Target: Target }];
}
