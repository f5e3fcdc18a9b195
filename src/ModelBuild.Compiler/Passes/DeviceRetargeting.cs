using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Points every device argument (<c>arange(..., device=cpu)</c>, <c>full</c>, <c>_to_copy</c>) at the target device:
/// an export traced on one device must not pin the engine's factories there.
/// </summary>
public static class DeviceRetargeting
{
    public static ModelGraph Run(ModelGraph graph, string device)
    {
        var target = new DeviceArg(device, null);
        var nodes = graph.Nodes.Select(n => n.Inputs.Any(a => a.Value is DeviceArg d && d != target)
            ? n with { Inputs = [.. n.Inputs.Select(a => a.Value is DeviceArg ? a with { Value = target } : a)] }
            : n).ToList();
        return graph.With(nodes: nodes);
    }
}
