using ModelBuild.Engine.Manifest;

namespace ModelBuild.Compiler.Shapes;

/// <summary>The ranges an engine is compiled for: every symbol of the inputs with min/opt/max, and the relations.</summary>
public sealed record ShapeRanges(IReadOnlyDictionary<string, ManifestSymbol> Symbols, IReadOnlyList<ManifestRelation> Relations);
