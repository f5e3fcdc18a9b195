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
        // Folding puts a batch norm's scale into the convolution's weights before they are rounded to fp16/bf16. Measured
        // (docs/precision.md): on CUDA, where cuDNN accumulates reduced-precision convolutions in fp32, folded engines err
        // less than eager fp16 and run faster (ResNet-50 fp16 2.98x fp32, 2.19x unfolded); on the CPU, tv_mobilenet_v2's
        // folded fp16 engine erred 2.7x as much as eager, so there a reduced-precision batch norm stays an fp32 island.
        if (precision == TensorDType.F32 || device.StartsWith("cuda", StringComparison.Ordinal))
        {
            g = BatchNormFolding.Run(g);
        }
        g = ConstantFolding.Run(g);
        g = DeadCodeElimination.Run(g);
        g = DeviceRetargeting.Run(g, device);
        return PrecisionLowering.Run(g, precision);
    }
}
