using ModelBuild.Engine.Container;
using ModelBuild.Runtime.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime;

/// <summary>Runs a lowered plan with the graph executor, which owns the engine's weights (moved to the device once).</summary>
internal sealed class GraphPlanRunner : IPlanRunner
{
    private readonly GraphExecutor _executor;

    public GraphPlanRunner(EngineFile engine, Device device)
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in engine.Plan.Weights)
            {
                using var cpu = engine.Tensors.ToTensor(name);
                weights[name] = cpu.to(device);
            }
        }
        catch
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
            throw;
        }
        _executor = new GraphExecutor(engine.Plan, weights, device);
    }

    public Tensor[] Run(IReadOnlyList<Tensor> inputs) => _executor.Run(inputs);

    public void Dispose() => _executor.Dispose();
}
