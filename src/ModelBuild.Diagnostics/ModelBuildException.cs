using System;

namespace ModelBuild.Diagnostics;

/// <summary>
/// A failure a user can act on: a code from <see cref="DiagnosticCodes"/>, a sentence, and the file it concerns.
/// Its message reads "MB1203: file: sentence", the form MSBuild and the tools print.
/// </summary>
public class ModelBuildException : Exception
{
    public ModelBuildException(string code, string message, string? file = null, Exception? inner = null)
        : base(Format(code, message, file), inner)
    {
        Code = code;
        Detail = message;
        File = file;
    }

    public string Code { get; }

    /// <summary>The sentence without code and file.</summary>
    public string Detail { get; }

    public string? File { get; }

    private static string Format(string code, string message, string? file) =>
        file is null ? $"{code}: {message}" : $"{code}: {file}: {message}";
}
