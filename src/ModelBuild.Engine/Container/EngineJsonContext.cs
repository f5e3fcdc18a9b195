using System.Text.Json.Serialization;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;

namespace ModelBuild.Engine.Container;

/// <summary>
/// Compile-time JSON metadata of the manifest and plan, which <see cref="EngineJson.Options"/> resolves types with: an
/// app's first engine load no longer builds it by reflection (locally 164 -> 138 ms for the first
/// <see cref="EngineFile.Read"/> in a process).
/// </summary>
[JsonSerializable(typeof(EngineManifest))]
[JsonSerializable(typeof(ExecutionPlan))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;
