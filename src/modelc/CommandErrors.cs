using ModelBuild.Compiler;
using ModelBuild.Diagnostics;

namespace ModelBuild.Cli;

/// <summary>
/// How every command reports a failure: one line on stderr, "modelc: error MB1234: file: message", exit code 1 (MB2001
/// continues with one indented line per unsupported operator). Every failure has that form: an error that names no
/// file names the command's own (the runtime's input checks know no file names), a native library that does not load
/// is MB0005, and any other exception, a bug, is MB0009 with its stack trace after the line.
/// </summary>
internal static class CommandErrors
{
    /// <param name="file">The file the command is about, named by errors that name none.</param>
    public static int Run(string file, Func<int> command)
    {
        try
        {
            return command();
        }
        catch (ModelBuildException e)
        {
            Console.Error.WriteLine($"modelc: error {(e.File is null ? new ModelBuildException(e.Code, e.Detail, file).Message : e.Message)}");
            return 1;
        }
        catch (Exception e) when (NativeLoadFailure(e) is { } failure)
        {
            Console.Error.WriteLine($"modelc: error {DiagnosticCodes.NativeLibraryUnavailable}: {file}: libtorch's native libraries cannot be loaded: {FirstSentence(failure.Message)} Restore the packages again, or set ModelBuildLibTorchDir / MODELBUILD_LIBTORCH_DIR to a folder holding all of libtorch {Toolchain.Manifest.LibTorch}.");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"modelc: error {DiagnosticCodes.InternalError}: {file}: modelc failed unexpectedly ({e.GetType().FullName}: {FirstLine(e.Message)}). This is a bug in ModelBuild: please report it with the file.");
            Console.Error.WriteLine(e.ToString());
            return 1;
        }
    }

    /// <summary><see cref="Run"/> for the commands that run models: libtorch is found and loaded first (MB0010, MB0011).</summary>
    public static int RunOnLibTorch(string file, Func<int> command) => Run(file, () =>
    {
        LibTorchLocator.EnsureLoaded();
        return command();
    });

    /// <summary>
    /// Runs <paramref name="action"/>, naming <paramref name="file"/> in the errors it raises without a file: inside a
    /// command, the runtime's errors are about whichever file the command handed it (the inputs, a case).
    /// </summary>
    public static T About<T>(string file, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ModelBuildException e) when (e.File is null)
        {
            throw new ModelBuildException(e.Code, e.Detail, file, e);
        }
    }

    /// <summary>TorchSharp's first use loads libtorch in a static constructor; a missing or broken library surfaces as one of these.</summary>
    private static Exception? NativeLoadFailure(Exception e) => e switch
    {
        TypeInitializationException { TypeName: { } type } t when type.StartsWith("TorchSharp", StringComparison.Ordinal) => t.InnerException ?? t,
        DllNotFoundException or EntryPointNotFoundException or BadImageFormatException => e,
        _ => null,
    };

    /// <summary>TorchSharp's load failure goes on for a page of trace (which it prints to stdout itself); its first sentence says what is missing.</summary>
    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? FirstLine(message) : FirstLine(message[..(end + 1)]);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
