using System.Reflection;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using NuGet.Versioning;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime;

/// <summary>
/// A compiled model restored from its engine: checks every input against the compiled shape ranges, then runs it.
/// <see cref="Run"/> is safe to call from several threads at once. Dispose it to free the weights.
/// </summary>
public sealed class CompiledModel : IDisposable
{
    private readonly IPlanRunner _runner;
    private readonly InputShapeValidator _validator;
    private readonly ScalarType? _computeFloat;

    private CompiledModel(EngineManifest manifest, IPlanRunner runner, Device device)
    {
        Manifest = manifest;
        Device = device;
        _runner = runner;
        _validator = new InputShapeValidator(manifest);
        _computeFloat = manifest.Target.Precision switch
        {
            "fp16" => ScalarType.Float16,
            "bf16" => ScalarType.BFloat16,
            _ => null,
        };
    }

    /// <summary>What the engine was compiled from, for, and validated at.</summary>
    public EngineManifest Manifest { get; }

    /// <summary>The device the engine runs on; inputs elsewhere are copied there and outputs stay there.</summary>
    public Device Device { get; }

    /// <summary>This runtime's version, which the engine's <see cref="EngineManifest.RuntimeVersions"/> must allow.</summary>
    public static NuGetVersion RuntimeVersion { get; } = NuGetVersion.Parse(
        typeof(CompiledModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelBuild.RuntimeVersion").Value!);

    /// <summary>Loads the engine file at <paramref name="path"/> (written by <c>modelc compile</c> or copied beside the app by the SDK).</summary>
    /// <param name="path">The engine file.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    /// <exception cref="ModelBuildException">MB4xxx when the file is not an engine this runtime may load.</exception>
    public static CompiledModel Load(string path, Device? device = null) => Load(File.ReadAllBytes(path), path, device);

    /// <summary>Loads an engine from <paramref name="stream"/>, read to its end.</summary>
    /// <param name="stream">The engine's bytes.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    /// <param name="name">Names the engine in errors.</param>
    public static CompiledModel Load(Stream stream, Device? device = null, string name = "<stream>")
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.GetBuffer().AsMemory(0, (int)copy.Length), name, device);
    }

    /// <summary>Loads an engine embedded in an assembly (the ModelBuild SDK embeds them as resources).</summary>
    /// <param name="assembly">The assembly holding the resource.</param>
    /// <param name="resourceName">The resource's logical name (a generated accessor's <c>ResourceName</c>).</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    /// <exception cref="ModelBuildException">MB4009 when the assembly has no such resource.</exception>
    public static CompiledModel Load(Assembly assembly, string resourceName, Device? device = null)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName) ?? throw new ModelBuildException(DiagnosticCodes.EngineResourceNotFound,
            $"the assembly has no embedded resource '{resourceName}'; it has: {string.Join(", ", assembly.GetManifestResourceNames())}.", assembly.GetName().Name);
        return Load(stream, device, $"{assembly.GetName().Name}:{resourceName}");
    }

    /// <summary>Loads an engine held in memory; its weights are read from <paramref name="bytes"/> without a copy of the file.</summary>
    /// <param name="bytes">The engine's bytes.</param>
    /// <param name="file">Named in errors.</param>
    /// <param name="device">Where to run; the device the engine was compiled for when null.</param>
    public static CompiledModel Load(ReadOnlyMemory<byte> bytes, string file, Device? device = null)
    {
        var engine = EngineFile.Read(bytes, file, RuntimeVersion);
        var target = device ?? new Device(engine.Plan.Device);
        if (target.type == DeviceType.CUDA && engine.Manifest.Target.Precision == "fp32")
        {
            CudaFloat32Math.RequireFullPrecision();
        }
        IPlanRunner runner = TorchScriptPlan.IsTorchScript(engine.Plan)
            ? new TorchScriptRunner(engine.Tensors.Data(TorchScriptPlan.ModuleWeight).Span, target)
            : new GraphPlanRunner(engine, target);
        return new CompiledModel(engine.Manifest, runner, target);
    }

    /// <summary>Checks the inputs against the compiled ranges (MB5xxx errors), runs the model and returns its outputs in export order. The caller owns them.</summary>
    public Tensor[] Run(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _validator.Validate([.. inputs.Select(t => (t.dtype.ToTensorDType(), (IReadOnlyList<long>)t.shape))]);
        using var scope = NewDisposeScope();
        var prepared = inputs.Select(Prepare).ToArray();
        var outputs = _runner.Run(prepared);
        var results = outputs.Select(Finish).ToArray();
        foreach (var r in results)
        {
            r.MoveToOuterDisposeScope();
        }
        return results;
    }

    /// <summary>Frees the engine's weights and native state; outputs already returned stay valid.</summary>
    public void Dispose() => _runner.Dispose();

    private Tensor Prepare(Tensor input)
    {
        var t = input.device == Device ? input.alias() : input.to(Device);
        return _computeFloat is { } dt && t.dtype == ScalarType.Float32 ? t.to(dt) : t;
    }

    private Tensor Finish(Tensor output) =>
        _computeFloat is { } dt && output.dtype == dt ? output.to(ScalarType.Float32) : output;
}
