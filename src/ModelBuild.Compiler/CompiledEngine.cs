using ModelBuild.Engine.Manifest;

namespace ModelBuild.Compiler;

/// <summary>A compiled, validated engine: its file bytes and its manifest.</summary>
public sealed record CompiledEngine(byte[] Bytes, EngineManifest Manifest);
