using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Backends;
using ModelBuild.Runtime.Torch.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>
/// The backend of models compiled from TorchScript, which carry no graph to lower: the block's payload is the module
/// (torch.jit.save bytes), loaded once and its forward called.
/// </summary>
public sealed class TorchScriptBackend : IExecutionBackend
{
    /// <summary>The name plans use for it.</summary>
    public const string BackendName = "torchscript";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => device == "cpu" || device.StartsWith("cuda", StringComparison.Ordinal);

    /// <inheritdoc/>
    public IBlockRunner Prepare(PlanBlock block, BlockContext context)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(context);
        var payload = block.Payload ?? throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, "the TorchScript block names no payload.", context.File);
        var device = TorchValues.ParseDevice(context.Device);
        // The module's convolutions are libtorch's too.
        LibTorchOneDnn.EnsureChecked();
        // Blocks naming one payload share its module (disposed with the model): a plan that repeats a block a thousand
        // times, as a damaged or hostile one can, loads it once, not a thousand times.
        var module = context.Shared($"torchscript.{payload}", () => Load(context.Engine.Tensors.Data(payload).Span, device));
        return new Runner(module, device);
    }

    /// <summary>libtorch reads a module reliably from a file only, so the bytes go through a temporary one.</summary>
    private static jit.ScriptModule Load(ReadOnlySpan<byte> moduleBytes, Device device)
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-{Guid.NewGuid():N}.pt");
        try
        {
            using (var file = File.Create(path))
            {
                file.Write(moduleBytes);
            }
            var module = jit.load(path, device);
            module.eval();
            return module;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Runner(jit.ScriptModule module, Device device) : IBlockRunner
    {
        public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
        {
            var args = new Tensor[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                args[i] = TorchValues.ToTensor(inputs[i], device);
            }
            try
            {
                using var noGrad = no_grad();
                return [.. TorchScriptOutputs.Flatten(module.forward(args)).Select(t => (RunValue)new TorchValue(t))];
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                // libtorch's own error (a forward given other inputs than it declares, a shape it refuses), through TorchSharp.
                var shapes = string.Join(", ", args.Select(a => $"[{string.Join(", ", a.shape)}] {a.dtype}"));
                throw new ModelBuildException(DiagnosticCodes.TorchScriptRunFailed, $"the TorchScript module failed on inputs ({shapes}): {e.Message.Split('\n')[0]}", inner: e);
            }
            finally
            {
                foreach (var arg in args)
                {
                    arg.Dispose();
                }
            }
        }

        /// <summary>The module is the model's (<see cref="BlockContext.Shared{T}"/>), not the block's.</summary>
        public void Dispose()
        {
        }
    }
}
