namespace ModelBuild.Diagnostics;

/// <summary>
/// Every diagnostic code of ModelBuild, build and runtime, in one place. docs/diagnostics.md explains each one.
/// Ranges: MB0xxx toolchain and internal errors, MB1xxx reading models, MB2xxx compiling, MB3xxx validation,
/// MB4xxx engine files, MB5xxx runtime inputs, MB6xxx MSBuild and caches, MB7xxx execution backends.
/// </summary>
public static partial class DiagnosticCodes
{
    /// <summary>The file given to the ELF patcher is not an ELF binary.</summary>
    public const string ElfNotElf = "MB0001";
    /// <summary>The ELF binary is of a class or byte order the patcher does not handle (only ELF64 little-endian).</summary>
    public const string ElfUnsupported = "MB0002";
    /// <summary>The ELF binary's tables point outside the file.</summary>
    public const string ElfCorrupt = "MB0003";
    /// <summary>A version requirement to weaken is used by a relocation, so weakening it would break loading.</summary>
    public const string ElfVersionInUse = "MB0004";
    /// <summary>libtorch or TorchSharp's native library cannot be loaded (missing, truncated, or of another version).</summary>
    public const string NativeLibraryUnavailable = "MB0005";
    /// <summary>An engine compiled for CUDA is run where no CUDA device (or no CUDA build of libtorch) is available.</summary>
    public const string CudaUnavailable = "MB0006";
    /// <summary>modelc failed with an exception that carries no code: a bug in ModelBuild, reported with the file it was reading.</summary>
    public const string InternalError = "MB0009";
    /// <summary>modelc found no libtorch to run models on (beside it, in MODELBUILD_LIBTORCH_DIR, on the library path or in the NuGet packages folder).</summary>
    public const string ModelcLibTorchMissing = "MB0010";
    /// <summary>modelc found libtorch but the native loader refused it (a missing dependency, another architecture).</summary>
    public const string ModelcLibTorchLoadFailed = "MB0011";

    /// <summary>A safetensors file (engine, cases, inputs) is truncated or its header is not valid.</summary>
    public const string SafetensorsMalformed = "MB4001";
    /// <summary>A safetensors tensor has a dtype that ModelBuild does not know.</summary>
    public const string SafetensorsUnknownDtype = "MB4002";
    /// <summary>A safetensors file lacks a tensor that is asked for by name (a case's input or output, an engine's weight).</summary>
    public const string SafetensorsTensorMissing = "MB4010";
    /// <summary>An engine, cases or inputs file does not exist or cannot be read.</summary>
    public const string SafetensorsFileUnreadable = "MB4015";
    /// <summary>An engine or output file could not be written (no space left, no permission); nothing is left at its path.</summary>
    public const string OutputWriteFailed = "MB4014";
}
