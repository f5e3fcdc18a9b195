using ModelBuild.Engine.Safetensors;
using System.Reflection;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Manifest;
using ModelBuild.Runtime.Backends;
using NuGet.Versioning;

namespace ModelBuild.Runtime;

/// <summary>
/// A compiled model restored from its engine: every block of its plan prepared on its backend, every input checked
/// against the compiled shape ranges before it runs. <see cref="Run(HostTensor[])"/> is safe to call from several
/// threads at once. Dispose it to free what the backends hold (weights, sessions).
/// </summary>
public sealed class CompiledModel : IDisposable
{
    private readonly PlanExecutor _executor;
    private readonly BlockContext _context;
    private readonly InputShapeValidator _validator;
    // The index of each input the model writes in place, in the order of the plan's last outputs.
    private readonly int[] _mutatedInputs;
    private readonly ReaderWriterLockSlim _lifetime = new(LockRecursionPolicy.SupportsRecursion);
    private bool _disposed;

    private CompiledModel(EngineManifest manifest, string device, PlanExecutor executor, BlockContext context, IReadOnlyList<string> backends)
    {
        Manifest = manifest;
        Device = device;
        Backends = backends;
        _executor = executor;
        _context = context;
        _validator = new InputShapeValidator(manifest);
        _mutatedInputs = [.. manifest.MutatedInputs.Select(name => manifest.Inputs.ToList().FindIndex(i => i.Name == name) is var index and >= 0 ? index
            : throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"the engine writes input '{name}', which it does not have.", manifest.Name))];
    }

    /// <summary>What the engine was compiled from, for, and validated at.</summary>
    public EngineManifest Manifest { get; }

    /// <summary>Where the model runs: "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; }

    /// <summary>The backends the engine's blocks run on, in plan order without repeats.</summary>
    public IReadOnlyList<string> Backends { get; }

    /// <summary>What the backends said about how they run this model, e.g. that CUDA graphs are off and why (<c>MB7006: ...</c>); empty when all is as compiled.</summary>
    public IReadOnlyCollection<string> Notes => _context.Notes;

    /// <summary>This runtime's version, which the engine's <see cref="EngineManifest.RuntimeVersions"/> must allow.</summary>
    public static NuGetVersion RuntimeVersion { get; } = NuGetVersion.Parse(
        typeof(CompiledModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelBuild.RuntimeVersion").Value!);

    /// <summary>Loads an engine file.</summary>
    /// <param name="path">The engine written by <c>modelc compile</c> (or the build).</param>
    /// <param name="device">Where to run ("cpu", "cuda", "cuda:N"); the device the engine was compiled for when null.</param>
    public static CompiledModel Load(string path, string? device = null) => Load(path, new ModelLoadOptions { Device = device });

    /// <summary>Loads an engine from a stream (read to its end).</summary>
    /// <param name="stream">The engine's bytes.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    /// <param name="name">Named in errors.</param>
    public static CompiledModel Load(Stream stream, string? device = null, string name = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream is UnmanagedMemoryStream inPlace)
        {
            // An embedded resource (or other native memory): read where it is, not copied.
            using var bytes = LoadBytes.InPlace(inPlace);
            var model = Load(bytes.Memory, name, device);
            inPlace.Position = inPlace.Length;
            return model;
        }
        if (stream.CanSeek && stream.Length - stream.Position <= Array.MaxLength)
        {
            // One array of the right size rather than a growing buffer's copies.
            var bytes = GC.AllocateUninitializedArray<byte>((int)(stream.Length - stream.Position));
            stream.ReadExactly(bytes);
            return Load(bytes, name, device);
        }
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.GetBuffer().AsMemory(0, (int)copy.Length), name, device);
    }

    /// <summary>Loads an engine embedded in an assembly (the ModelBuild SDK embeds them as resources).</summary>
    /// <param name="assembly">The assembly holding the resource.</param>
    /// <param name="resourceName">The resource's logical name.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    public static CompiledModel Load(Assembly assembly, string resourceName, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using var stream = assembly.GetManifestResourceStream(resourceName) ?? throw new ModelBuildException(DiagnosticCodes.EngineResourceNotFound,
            $"the assembly has no embedded resource '{resourceName}'; it has: {string.Join(", ", assembly.GetManifestResourceNames())}.", assembly.GetName().Name);
        return Load(stream, device, $"{assembly.GetName().Name}:{resourceName}");
    }

    /// <summary>Loads an engine from its bytes.</summary>
    /// <param name="bytes">The engine's bytes; kept (not copied) while the model lives.</param>
    /// <param name="file">Named in errors.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    public static CompiledModel Load(ReadOnlyMemory<byte> bytes, string file, string? device = null) =>
        Load(bytes, file, new ModelLoadOptions { Device = device });

    /// <summary>Loads an engine file with options.</summary>
    /// <param name="path">The engine written by <c>modelc compile</c> (or the build).</param>
    /// <param name="options">Device, CUDA graphs.</param>
    public static CompiledModel Load(string path, ModelLoadOptions options)
    {
        // Mapped, not read into an array (see LoadBytes), and unmapped when the load ends: another build rewriting the
        // file while the app runs cannot pull the memory from under the model.
        var bytes = LoadBytes.Open(path, out var mapped);
        using (mapped)
        {
            return Load(bytes, path, options);
        }
    }

    /// <summary>Loads an engine from its bytes with options.</summary>
    /// <param name="bytes">The engine's bytes; kept (not copied) while the model lives.</param>
    /// <param name="file">Named in errors.</param>
    /// <param name="options">Device, CUDA graphs.</param>
    public static CompiledModel Load(ReadOnlyMemory<byte> bytes, string file, ModelLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var engine = EngineFile.Read(bytes, file, RuntimeVersion);
        var target = options.Device ?? engine.Plan.Device;
        var context = new BlockContext(engine, target, file, options);
        var runners = new List<IBlockRunner>();
        try
        {
            foreach (var block in engine.Plan.Blocks)
            {
                var backend = ExecutionBackends.Get(block.Backend, file);
                if (!backend.SupportsDevice(target))
                {
                    throw new ModelBuildException(DiagnosticCodes.BackendDeviceUnsupported,
                        $"backend '{block.Backend}' cannot run on device '{target}'; the engine was compiled for '{engine.Plan.Device}'.", file);
                }
                runners.Add(backend.Prepare(block, context));
            }
            var executor = new PlanExecutor(engine.Plan, [.. runners], file);
            return new CompiledModel(engine.Manifest, target, executor, context, [.. engine.Plan.Blocks.Select(b => b.Backend).Distinct(StringComparer.Ordinal)]);
        }
        catch
        {
            foreach (var runner in runners)
            {
                runner.Dispose();
            }
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the inputs against the compiled ranges (MB5xxx errors), runs the model and returns its outputs in export
    /// order, in host memory. The caller owns them. An input the model writes in place (<see cref="EngineManifest.MutatedInputs"/>)
    /// holds its new values afterwards, as after PyTorch's forward.
    /// </summary>
    /// <param name="inputs">The model's inputs in export order.</param>
    public HostTensor[] Run(params HostTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var outputs = RunValues(inputs);
        var results = new HostTensor[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            results[i] = outputs[i].ToHost();
            if (!ReferenceEquals(results[i], outputs[i]))
            {
                outputs[i].Dispose();
            }
        }
        return results;
    }

    /// <summary>
    /// Checks and runs, taking and returning the backends' own values (a TorchSharp tensor on a CUDA device stays
    /// there). Inputs are borrowed, and those the model writes in place receive their new values; the caller owns the
    /// outputs. Backend packages build their typed APIs on this.
    /// </summary>
    /// <param name="inputs">The model's inputs in export order.</param>
    public RunValue[] RunValues(IReadOnlyList<RunValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var signature = new (TensorDType, IReadOnlyList<long>)[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ModelBuildException(DiagnosticCodes.InputCountMismatch, $"input {i} is null.", Manifest.Name);
            signature[i] = (input.DType, input.Shape);
        }
        _validator.Validate(signature);
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var values = _executor.Run(inputs);
            return _mutatedInputs.Length == 0 ? values : WriteBack(inputs, values);
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    /// <summary>The plan's outputs after the model's own are the new values of inputs it writes in place: into the caller's values they go.</summary>
    private RunValue[] WriteBack(IReadOnlyList<RunValue> inputs, RunValue[] values)
    {
        var outputs = values[..^_mutatedInputs.Length];
        try
        {
            for (var m = 0; m < _mutatedInputs.Length; m++)
            {
                inputs[_mutatedInputs[m]].CopyFrom(values[outputs.Length + m]);
            }
        }
        catch
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }
            throw;
        }
        finally
        {
            foreach (var written in values[outputs.Length..])
            {
                written.Dispose();
            }
        }
        return outputs;
    }

    /// <summary>Frees what the backends hold. Calls in flight finish first; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _executor.Dispose();
            _context.Dispose();
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }
}
