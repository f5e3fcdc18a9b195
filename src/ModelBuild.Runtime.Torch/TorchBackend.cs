using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Runtime.Backends;
using ModelBuild.Runtime.Torch.Cuda;
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
        var symbolic = SymbolicInputs(block);
        var eager = new Runner(executor, device, symbolic);
        return device.type == TorchSharp.DeviceType.CUDA && context.Options.CudaGraphs ? WithCudaGraphs(eager, executor, block, context, device, symbolic) : eager;
    }

    /// <summary>The block replayed as CUDA graphs where it may be captured and graphs work in this process; else eager, with a note that says why.</summary>
    private static IBlockRunner WithCudaGraphs(Runner eager, GraphExecutor executor, PlanBlock block, BlockContext context, Device device, bool[] symbolic)
    {
        if (block.NotCapturable is { } why)
        {
            context.Note($"{DiagnosticCodes.CudaGraphsOff}: CUDA graphs are off for this engine: {why}.");
            return eager;
        }
        if (CudaGraphSupport.Native is not { } native)
        {
            context.Note($"{DiagnosticCodes.CudaGraphsOff}: CUDA graphs are off in this process: {CudaGraphSupport.Reason}.");
            return eager;
        }
        var runner = new CudaGraphRunner(eager, executor, device, symbolic, native, context);
        if (OptInputs(block, context, device) is { } opt)
        {
            try
            {
                runner.Prepare(opt);
            }
            finally
            {
                foreach (var value in opt)
                {
                    value.Dispose();
                }
            }
        }
        return runner;
    }

    /// <summary>Zero inputs at the engine's opt shape, when the block reads the model's inputs as they are; else null.</summary>
    private static RunValue[]? OptInputs(PlanBlock block, BlockContext context, Device device)
    {
        var manifest = context.Engine.Manifest;
        if (!block.Inputs.SequenceEqual(manifest.Inputs.Select(i => i.Name)))
        {
            return null;
        }
        var symbols = manifest.Symbols.ToDictionary(s => s.Key, s => s.Value.Opt, StringComparer.Ordinal);
        var values = new RunValue[block.Inputs.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var input = manifest.Inputs[i];
            if (!TensorDTypes.TryParse(input.DType, out var dtype))
            {
                return null;
            }
            long[] shape = [.. input.Dims.Select(d => long.TryParse(d, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? n : SymExpr.Parse(d).Evaluate(symbols))];
            values[i] = new TorchValue(zeros(shape, dtype.ToScalarType(), device));
        }
        return values;
    }

    /// <summary>Which of the block's inputs its nodes read as symbolic values (sizes, flags), not tensors: those cross blocks as 0-d tensors.</summary>
    private static bool[] SymbolicInputs(PlanBlock block)
    {
        var symbolic = (block.Nodes ?? []).SelectMany(n => n.Inputs).SelectMany(a => a.Value switch
        {
            SymIntArg { Value.Name: { } name } => [name],
            SymIntsArg s => s.Values.Where(v => v.Name is not null).Select(v => v.Name!),
            SymFloatArg { Name: { } name } => [name],
            SymBoolArg { Name: { } name } => [name],
            _ => [],
        }).ToHashSet(StringComparer.Ordinal);
        return [.. block.Inputs.Select(symbolic.Contains)];
    }

    internal sealed class Runner(GraphExecutor executor, Device device, bool[] symbolic) : IBlockRunner
    {
        public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
        {
            var args = new object[inputs.Length];
            try
            {
                for (var i = 0; i < inputs.Length; i++)
                {
                    args[i] = symbolic[i] ? TorchValues.ToSymbolic(inputs[i]) : TorchValues.ToTensor(inputs[i], device);
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
