using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelBuild.Diagnostics;
using Task = Microsoft.Build.Utilities.Task;

namespace ModelBuild.Tasks;

/// <summary>
/// Brings every resolved ModelCompile item's engine and accessor up to date: an item whose outputs are newer than
/// its model and stamp is left alone; otherwise its cache key is computed and the caches checked in-process (the
/// local folder, then the remote HTTP cache, whose hits are copied into the local one), and only on a miss is modelc
/// started (<see cref="ModelCompile"/>), several at once up to <see cref="MaxParallelism"/>; what it compiled is
/// stored locally and, where <see cref="RemoteCacheUpload"/>, uploaded. The accessor is generated from the engine's
/// manifest, so a cache hit needs no modelc.
/// </summary>
public sealed class CompileModels : Task, ICancelableTask
{
    private readonly List<ModelCompile> _running = new();
    private readonly CancellationTokenSource _cancellation = new();
    private volatile bool _cancelled;

    /// <summary>Items from <see cref="ResolveModelCompileItems"/>.</summary>
    [Required]
    public ITaskItem[] Items { get; set; } = Array.Empty<ITaskItem>();

    public string ModelcPath { get; set; } = "";
    public string SdkModelcPath { get; set; } = "";
    public string LibTorchDir { get; set; } = "";
    public string SdkLibTorchDir { get; set; } = "";
    public string LibTorchVersion { get; set; } = "";
    public string DotnetHostPath { get; set; } = "";
    public string ModelBuildVersion { get; set; } = "";

    /// <summary>The local engine cache; empty: no cache.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>The remote cache's root URL (its <c>ac/</c> and <c>cas/</c> are below it); empty: no remote cache.</summary>
    public string RemoteCacheUrl { get; set; } = "";

    /// <summary>Whether engines compiled here are uploaded to the remote cache.</summary>
    public bool RemoteCacheUpload { get; set; }

    /// <summary>Seconds a remote cache request may take to connect and answer.</summary>
    public int RemoteCacheTimeout { get; set; } = 10;

    /// <summary>Seconds one engine may take to download or upload.</summary>
    public int RemoteCacheTransferTimeout { get; set; } = 300;

    /// <summary>The environment variable that may hold a header for the remote cache, <c>Name: value</c>.</summary>
    public string RemoteCacheHeaderVariable { get; set; } = "";

    public int MaxParallelism { get; set; } = Environment.ProcessorCount;

    public string ProjectFile { get; set; } = "";

    /// <summary>Whether the app references ModelBuild.Runtime.Torch: engines may hold torch and torchscript blocks, and accessors get TorchSharp overloads.</summary>
    public bool TorchRuntimeReferenced { get; set; } = true;

    /// <summary>Whether the app references ModelBuild.Runtime.OnnxRuntime: engines may hold onnxruntime blocks.</summary>
    public bool OnnxRuntimeReferenced { get; set; } = true;

    public void Cancel()
    {
        _cancelled = true;
        _cancellation.Cancel();
        lock (_running)
        {
            foreach (var tool in _running)
            {
                tool.Cancel();
            }
        }
    }

    public override bool Execute()
    {
        var stale = Items.Where(i => !IsUpToDate(i)).ToList();
        foreach (var item in Items.Except(stale))
        {
            // The compile target compares all of its inputs with all of its outputs: keep every output newer than every input.
            Touch(item.GetMetadata("EngineFile"));
            Touch(item.GetMetadata("GeneratedFile"));
            Log.LogMessage(MessageImportance.Low, $"ModelBuild: {item.ItemSpec} is up to date.");
        }
        if (stale.Count == 0)
        {
            return true;
        }
        string compilerVersion;
        string modelc;
        try
        {
            modelc = ModelcToolSelection.ResolveModelc(ModelcPath, SdkModelcPath, Environment.GetEnvironmentVariable);
            compilerVersion = CompilerVersion(modelc);
        }
        catch (ModelBuildException e)
        {
            foreach (var item in stale)
            {
                LogAtItem(item, e.Code, e.Detail);
            }
            return false;
        }
        var cache = CacheDirectory.Length > 0 ? new LocalEngineCache(CacheDirectory) : null;
        using var remote = CreateRemoteCache();
        using var slots = new SemaphoreSlim(Math.Max(1, MaxParallelism));
        var work = stale.Select(item => System.Threading.Tasks.Task.Run(() =>
        {
            slots.Wait();
            try
            {
                if (!_cancelled)
                {
                    Build(item, modelc, compilerVersion, cache, remote);
                }
            }
            catch (ModelBuildException e)
            {
                LogAtItem(item, e.Code, e.File is null ? e.Detail : $"{e.File}: {e.Detail}");
            }
            catch (OperationCanceledException) when (_cancelled)
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogAtItem(item, DiagnosticCodes.ModelcFailed, $"{item.ItemSpec}: {e.Message}");
            }
            finally
            {
                slots.Release();
            }
        })).ToArray();
        System.Threading.Tasks.Task.WaitAll(work);
        return !Log.HasLoggedErrors && !_cancelled;
    }

    private void Build(ITaskItem item, string modelc, string compilerVersion, LocalEngineCache? cache, RemoteEngineCache? remote)
    {
        var clock = Stopwatch.StartNew();
        var className = item.GetMetadata("ClassName");
        var engine = item.GetMetadata("EngineFile");
        var model = item.GetMetadata("ModelFullPath");
        var options = ModelCompileOptions.Parse(item.ItemSpec, item.GetMetadata("Device"), item.GetMetadata("Precision"),
            item.GetMetadata("Shapes"), item.GetMetadata("Tolerance"), item.GetMetadata("ModelName"),
            item.GetMetadata("Backend"), item.GetMetadata("MinBlockSize"), item.GetMetadata("TorchExecutedOps"));
        var key = EngineCacheKey.Compute(EngineCacheKey.HashFile(model), options, compilerVersion, LibTorchVersion);
        Directory.CreateDirectory(Path.GetDirectoryName(engine)!);

        string outcome;
        if (cache is not null && TryRestore(cache, key, engine, item))
        {
            outcome = $"local cache hit {Short(key)}";
        }
        else if (remote is not null && Remote(item, remote.TryRestore(key, engine, _cancellation.Token)))
        {
            outcome = $"remote cache hit {Short(key)}";
            outcome += StoreLocally(cache, key, engine);
        }
        else
        {
            Log.LogMessage(MessageImportance.High,
                $"ModelBuild: {item.ItemSpec} -> {className}: compiling ({options.Device}, {options.Precision}; cache miss {Short(key)})");
            if (!RunModelc(item, modelc, options, engine))
            {
                Log.LogMessage(MessageImportance.High, $"ModelBuild: {item.ItemSpec} -> {className}: failed after {Seconds(clock)}");
                return;
            }
            outcome = "compiled" + StoreLocally(cache, key, engine);
            if (remote is not null && Remote(item, remote.Store(key, engine, _cancellation.Token)))
            {
                outcome += $", uploaded {Short(key)}";
            }
        }
        Touch(engine);
        var signature = EngineManifestReader.Read(engine);
        if (MissingRuntime(signature) is { } missing)
        {
            var (file, line) = ItemLocation.Of(item, ProjectFile, findLine: true);
            Log.LogError(null, DiagnosticCodes.EngineBackendNotReferenced, null, file, line, 0, 0, 0,
                $"{item.ItemSpec}: the engine has {missing.Backend} blocks ({string.Join(", ", signature.Backends)}), which need the package {missing.Package}, and the app does not reference it. Set <{missing.Property}>true</{missing.Property}>, or change what the model compiles to.");
            return;
        }
        var location = new EngineLocation(item.GetMetadata("Embed") == "true", item.GetMetadata("EngineLocation"));
        var source = ModelAccessorGenerator.Generate(signature, item.GetMetadata("Namespace"), className, item.ItemSpec.Replace('\\', '/'), location, ModelBuildVersion, TorchRuntimeReferenced);
        File.WriteAllText(item.GetMetadata("GeneratedFile"), source, new UTF8Encoding(false));
        Log.LogMessage(MessageImportance.High, $"ModelBuild: {item.ItemSpec} -> {className}: {outcome} in {Seconds(clock)}");
    }

    /// <summary>The first backend of the engine whose runtime package the app does not reference, or null.</summary>
    private (string Backend, string Package, string Property)? MissingRuntime(EngineSignature signature)
    {
        foreach (var backend in signature.Backends)
        {
            if (backend is "torch" or "torchscript" && !TorchRuntimeReferenced)
            {
                return (backend, "ModelBuild.Runtime.Torch", "ModelBuildReferenceTorchRuntime");
            }
            if (backend == "onnxruntime" && !OnnxRuntimeReferenced)
            {
                return (backend, "ModelBuild.Runtime.OnnxRuntime", "ModelBuildReferenceOnnxRuntime");
            }
        }
        return null;
    }

    /// <summary>", stored &lt;key&gt;" once the engine is in the local cache; a warning (MB6014) when it could not be stored.</summary>
    private string StoreLocally(LocalEngineCache? cache, string key, string engine)
    {
        if (cache is null)
        {
            return "";
        }
        try
        {
            cache.Store(key, engine);
            return $", stored {Short(key)}";
        }
        catch (ModelBuildException e)
        {
            Log.LogWarning(null, e.Code, null, e.File, 0, 0, 0, 0, e.Detail);
            return "";
        }
    }

    /// <summary>Logs the remote cache's warning at the item; true when the call succeeded.</summary>
    private bool Remote(ITaskItem item, RemoteCacheResult result)
    {
        if (result.Warning is { } warning)
        {
            var (file, line) = ItemLocation.Of(item, ProjectFile);
            Log.LogWarning(null, warning.Code, null, file, line, 0, 0, 0, $"{item.ItemSpec}: {warning.Message}.");
        }
        return result.Succeeded;
    }

    private RemoteEngineCache? CreateRemoteCache()
    {
        var warnings = new List<CacheWarning>();
        var settings = RemoteCacheSettings.Create(RemoteCacheUrl, RemoteCacheUpload, RemoteCacheTimeout, RemoteCacheTransferTimeout,
            RemoteCacheHeaderVariable, Environment.GetEnvironmentVariable, warnings);
        foreach (var warning in warnings)
        {
            Log.LogWarning(null, warning.Code, null, ProjectFile, 0, 0, 0, 0, warning.Message);
        }
        if (settings is null)
        {
            return null;
        }
        Log.LogMessage(MessageImportance.Normal, $"ModelBuild: remote cache {settings.DisplayUrl} ({(settings.Upload ? "read and upload" : "read only")})");
        return new RemoteEngineCache(settings);
    }

    private bool TryRestore(LocalEngineCache cache, string key, string engine, ITaskItem item)
    {
        var hit = cache.TryRestore(key, engine, out var problem);
        if (problem is not null)
        {
            var (file, line) = ItemLocation.Of(item, ProjectFile);
            Log.LogWarning(null, DiagnosticCodes.CacheEntryCorrupt, null, file, line, 0, 0, 0,
                $"{item.ItemSpec}: {problem}; the entry was ignored and the model is compiled again.");
        }
        return hit;
    }

    private bool RunModelc(ITaskItem item, string modelc, ModelCompileOptions options, string engine)
    {
        string libTorch;
        try
        {
            libTorch = ModelcToolSelection.ResolveLibTorch(LibTorchDir, SdkLibTorchDir, Environment.GetEnvironmentVariable);
        }
        catch (ModelBuildException e)
        {
            LogAtItem(item, e.Code, e.Detail);
            return false;
        }
        RemoveLeftovers(engine);
        var partial = Path.Combine(Path.GetDirectoryName(engine)!, $"{Path.GetFileNameWithoutExtension(engine)}.{Guid.NewGuid():N}.partial.engine");
        var (file, line) = ItemLocation.Of(item, ProjectFile, findLine: false);
        var tool = new ModelCompile
        {
            BuildEngine = BuildEngine,
            HostObject = HostObject,
            Model = item.GetMetadata("ModelFullPath"),
            Output = partial,
            ModelcPath = modelc,
            LibTorchDir = libTorch,
            DotnetHostPath = DotnetHostPath,
            Device = options.Device,
            Precision = options.Precision,
            Shapes = string.Join(";", options.Shapes),
            Tolerance = item.GetMetadata("Tolerance"),
            ModelName = options.Name,
            Backend = options.Backend,
            MinBlockSize = item.GetMetadata("MinBlockSize"),
            TorchExecutedOps = string.Join(";", options.TorchExecutedOps),
            ItemFile = file,
            ItemLine = ProjectItemLocator.FindLine(file, "ModelCompile", item.ItemSpec),
        };
        lock (_running)
        {
            _running.Add(tool);
        }
        try
        {
            if (!tool.Execute() || !File.Exists(partial))
            {
                return false;
            }
            if (File.Exists(engine))
            {
                File.Delete(engine);
            }
            File.Move(partial, engine);
            return true;
        }
        finally
        {
            lock (_running)
            {
                _running.Remove(tool);
            }
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    /// <summary>
    /// Deletes what a modelc killed midway (kill -9, a cancelled build) left of this item: its partial engine and modelc's
    /// temporary file beside it. Nothing reads them (the engine is only ever renamed into place whole); this keeps them
    /// from piling up.
    /// </summary>
    private static void RemoveLeftovers(string engine)
    {
        foreach (var leftover in Directory.GetFiles(Path.GetDirectoryName(engine)!, $"{Path.GetFileNameWithoutExtension(engine)}.*.partial.engine*"))
        {
            AtomicFile.TryDelete(leftover);
        }
    }

    /// <summary>Outputs exist and are at least as new as the model and the stamp of its options.</summary>
    private static bool IsUpToDate(ITaskItem item)
    {
        var engine = new FileInfo(item.GetMetadata("EngineFile"));
        var generated = new FileInfo(item.GetMetadata("GeneratedFile"));
        if (!engine.Exists || !generated.Exists)
        {
            return false;
        }
        var oldestOutput = engine.LastWriteTimeUtc < generated.LastWriteTimeUtc ? engine.LastWriteTimeUtc : generated.LastWriteTimeUtc;
        var model = File.GetLastWriteTimeUtc(item.GetMetadata("ModelFullPath"));
        var stamp = File.GetLastWriteTimeUtc(item.GetMetadata("StampFile"));
        return oldestOutput >= model && oldestOutput >= stamp;
    }

    /// <summary>modelc's informational version (with the commit it was built from), else a hash of its bytes.</summary>
    private static string CompilerVersion(string modelc)
    {
        var assembly = modelc.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? modelc : modelc + ".dll";
        if (File.Exists(assembly) && FileVersionInfo.GetVersionInfo(assembly).ProductVersion is { Length: > 0 } version)
        {
            return version;
        }
        return "sha256:" + EngineCacheKey.HashFile(modelc);
    }

    private void LogAtItem(ITaskItem item, string code, string message)
    {
        var (file, line) = ItemLocation.Of(item, ProjectFile);
        Log.LogError(null, code, null, file, line, 0, 0, 0, message);
    }

    private static void Touch(string path)
    {
        if (File.Exists(path))
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
    }

    private static string Short(string key) => key.Substring(0, 12);

    private static string Seconds(Stopwatch clock) =>
        clock.Elapsed.TotalSeconds.ToString(clock.Elapsed.TotalSeconds < 10 ? "0.00" : "0.0", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
