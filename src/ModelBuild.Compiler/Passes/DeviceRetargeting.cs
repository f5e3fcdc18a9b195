using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Points every device argument (<c>arange(..., device=cpu)</c>, <c>full</c>, <c>_to_copy</c>), in subgraphs too, at the
/// target device, and every autocast region at the target's device type: an export traced on one device must not pin
/// the engine's factories there, nor leave its autocast regions without effect.
/// </summary>
public static class DeviceRetargeting
{
    private const string Autocast = "torch.ops.higher_order.wrap_with_autocast";

    public static ModelGraph Run(ModelGraph graph, string device) => graph.With(nodes: Retarget(graph.Nodes, new DeviceArg(device, null)));

    private static List<GraphNode> Retarget(IReadOnlyList<GraphNode> nodes, DeviceArg target) => [.. nodes.Select(n =>
    {
        var node = n.WithSubgraphs(s => s with { Nodes = Retarget(s.Nodes, target) });
        return node.Inputs.Any(a => a.Value is DeviceArg d && d != target) || node.Target == Autocast
            ? node with { Inputs = [.. node.Inputs.Select((a, i) => a.Value switch
            {
                DeviceArg => a with { Value = target },
                // wrap_with_autocast's first argument is the device type it casts on ("cpu", "cuda").
                StringArg when i == 0 && node.Target == Autocast => a with { Value = new StringArg(target.Type) },
                _ => a,
            })] }
            : node;
    })];
}
