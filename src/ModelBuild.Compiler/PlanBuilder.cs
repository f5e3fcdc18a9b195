using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler;

/// <summary>A graph as the runtime runs it: the execution plan and the weights it reads.</summary>
public static class PlanBuilder
{
    /// <param name="planMemory">Compute FreeAfter (the engine); false leaves it empty (the plain reference interpretation).</param>
    public static ExecutionPlan Build(ModelGraph graph, string device, bool planMemory = true)
    {
        var inputs = graph.Inputs.Select(i => i.Name).ToList();
        var outputs = graph.Outputs.Select(o => o.Name).ToList();
        var weights = graph.Weights.Select(w => w.ValueName).ToList();
        var free = planMemory ? MemoryPlanner.FreeAfter(graph.Nodes, inputs, weights, outputs) : [];
        return new ExecutionPlan(inputs, outputs, weights, graph.Nodes, free) { Device = device };
    }

    public static IReadOnlyCollection<SafetensorsTensor> Weights(ModelGraph graph) =>
        [.. graph.Weights.Select(w => new SafetensorsTensor(w.ValueName, w.Meta.DType, w.Meta.StaticShape(), w.Read()))];
}
