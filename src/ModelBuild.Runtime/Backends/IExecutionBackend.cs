using ModelBuild.Engine.Graph;

namespace ModelBuild.Runtime.Backends;

/// <summary>
/// The run-time half of an execution backend (in the spirit of ONNX Runtime's execution providers): it prepares the
/// state a block needs once, at load (weights on the device, sessions, captured graphs), and hands back a runner.
/// The compile-time half (which nodes it runs, what bytes a block compiles to) lives in ModelBuild.Compiler.
/// </summary>
public interface IExecutionBackend
{
    /// <summary>The name plans use for it: torch, torchscript, onnxruntime.</summary>
    string Name { get; }

    /// <summary>Whether it can run blocks on <paramref name="device"/> ("cpu", "cuda", "cuda:1").</summary>
    bool SupportsDevice(string device);

    /// <summary>Prepares one block for running; the runner is disposed with the model.</summary>
    IBlockRunner Prepare(PlanBlock block, BlockContext context);
}

/// <summary>Runs one prepared block. <see cref="Run"/> may be called from several threads at once.</summary>
public interface IBlockRunner : IDisposable
{
    /// <summary>
    /// Runs the block on its inputs (in <see cref="PlanBlock.Inputs"/> order, borrowed: not disposed here) and returns its
    /// outputs in <see cref="PlanBlock.Outputs"/> order, each new and owned by the caller.
    /// </summary>
    RunValue[] Run(ReadOnlySpan<RunValue> inputs);
}
