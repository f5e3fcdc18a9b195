using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Backends;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>
/// The backend that runs every node of the graph IR: TorchSharp's kernels on the CPU or a CUDA device. The fallback for
/// whatever another backend cannot run.
/// </summary>
public sealed class TorchBackend : IExecutionBackend
{
    /// <summary>The name plans use for it.</summary>
    public const string BackendName = "torch";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => device == "cpu" || device.StartsWith("cuda", StringComparison.Ordinal);

    /// <inheritdoc/>
    public IBlockRunner Prepare(PlanBlock block, BlockContext context)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(context);
        var device = TorchValues.ParseDevice(context.Device);
        if (device.type == TorchSharp.DeviceType.CUDA && context.Engine.Manifest.Target.Precision == "fp32")
        {
            CudaFloat32Math.RequireFullPrecision();
        }
        var weights = context.Shared("torch.weights", () => new TorchWeights(context.Engine, device)).Get(block.Weights);
        var executor = new GraphExecutor(block.Nodes ?? [], block.Inputs, block.Outputs, weights, block.FreeAfter, device);
        return new Runner(executor, device, SymIntInputs(block));
    }

    /// <summary>Which of the block's inputs its nodes read as sym-ints (sizes), not tensors.</summary>
    private static bool[] SymIntInputs(PlanBlock block)
    {
        var symInts = (block.Nodes ?? []).SelectMany(n => n.Inputs).SelectMany(a => a.Value switch
        {
            SymIntArg { Value.Name: { } name } => [name],
            SymIntsArg s => s.Values.Where(v => v.Name is not null).Select(v => v.Name!),
            _ => [],
        }).ToHashSet(StringComparer.Ordinal);
        return [.. block.Inputs.Select(symInts.Contains)];
    }

    private sealed class Runner(GraphExecutor executor, Device device, bool[] symInts) : IBlockRunner
    {
        public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
        {
            var args = new object[inputs.Length];
            try
            {
                for (var i = 0; i < inputs.Length; i++)
                {
                    // object, not Tensor: TorchSharp converts a long to a 0-d Tensor implicitly, which the kernels would not read as a size.
                    args[i] = symInts[i] ? (object)TorchValues.ToInt64(inputs[i]) : TorchValues.ToTensor(inputs[i], device);
                }
                var outputs = executor.Run(args);
                var values = new RunValue[outputs.Length];
                for (var o = 0; o < outputs.Length; o++)
                {
                    values[o] = new TorchValue(outputs[o]);
                }
                return values;
            }
            finally
            {
                foreach (var arg in args)
                {
                    (arg as Tensor)?.Dispose();
                }
            }
        }

        public void Dispose()
        {
        }
    }
}
