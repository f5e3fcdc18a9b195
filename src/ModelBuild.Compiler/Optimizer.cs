using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler;

/// <summary>The passes in the order the compiler runs them.</summary>
public static class Optimizer
{
    public static ModelGraph Run(ModelGraph graph, string device, TensorDType precision)
    {
        // Inlined first, so that every later pass and the partitioner see a grad-mode region's nodes as the graph's own.
        var g = GradModeRegionInlining.Run(graph);
        g = DeadCodeElimination.Run(g);
        g = BatchNormFolding.Run(g);
        g = ConstantFolding.Run(g);
        g = DeadCodeElimination.Run(g);
        g = DeviceRetargeting.Run(g, device);
        return PrecisionLowering.Run(g, precision);
    }
}
