namespace ModelBuild.Fuzz;

/// <summary>
/// One reader under fuzz: the seeds inputs are made from, how an input is made from a seed, and the call that reads it
/// (given the input's bytes and, for readers that take a path, a file holding them), returning the bytes of tensors
/// the input declared, for the memory bound. <see cref="NamesFile"/>: every coded error must name the file (false where
/// the input runs on the runtime, whose input checks know no file names).
/// </summary>
internal sealed record FuzzTarget(
    string Name,
    string Extension,
    Func<IReadOnlyList<Seed>> Seeds,
    Func<byte[], Random, byte[]> Mutate,
    Func<Seed, byte[], string, long> Read,
    bool NamesFile = true);
