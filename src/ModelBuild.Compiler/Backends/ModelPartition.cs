using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Backends;

/// <summary>How a model would be split into blocks: the graph the partitioner saw, the candidate, its blocks, and the nodes its preferred backend does not run, with why.</summary>
public sealed record ModelPartition(ModelGraph Graph, string Candidate, IReadOnlyList<PartitionBlock> Blocks, IReadOnlyList<NodeVerdict> NotRun);

/// <summary>A block of the partition and the backend that runs it.</summary>
public sealed record PartitionBlock(string Backend, BlockGraph Block);

/// <summary>A node that <paramref name="Backend"/> does not run, and why (its rule's words).</summary>
public sealed record NodeVerdict(GraphNode Node, string Backend, string Reason);
