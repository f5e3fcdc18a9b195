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
        // At fp16/bf16 a batch norm stays an fp32 island instead: folded, its scale goes into the reduced-precision
        // convolution weights, which made tv_mobilenet_v2's fp16 engine 2.7x worse than eager fp16 (docs/precision.md).
        if (precision == TensorDType.F32)
        {
            g = BatchNormFolding.Run(g);
        }
        g = ConstantFolding.Run(g);
        g = DeadCodeElimination.Run(g);
        g = DeviceRetargeting.Run(g, device);
        return PrecisionLowering.Run(g, precision);
    }
}
