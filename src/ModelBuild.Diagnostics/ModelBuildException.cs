using System;

namespace ModelBuild.Diagnostics;

/// <summary>
/// A failure a user can act on: a code from <see cref="DiagnosticCodes"/>, a sentence, and the file it concerns.
/// Its message reads "MB1203: file: sentence", the form MSBuild and the tools print.
/// </summary>
public class ModelBuildException : Exception
{
    /// <param name="code">the failure's code, one of <see cref="DiagnosticCodes"/> (e.g. <c>MB5003</c>).</param>
    /// <param name="message">one sentence that says what is wrong and, where it helps, what to do.</param>
    /// <param name="file">the model, engine or project file the failure concerns, if any.</param>
    /// <param name="inner">the failure that caused this one, if any.</param>
    public ModelBuildException(string code, string message, string? file = null, Exception? inner = null)
        : base(Format(code, message, file), inner)
    {
        Code = code;
        Detail = message;
        File = file;
    }

    /// <summary>The code from <see cref="DiagnosticCodes"/>: compare it to tell failures apart.</summary>
    public string Code { get; }

    /// <summary>The sentence without code and file.</summary>
    public string Detail { get; }

    /// <summary>The model, engine or project file the failure concerns; null when it concerns none.</summary>
    public string? File { get; }

    private static string Format(string code, string message, string? file) =>
        file is null ? $"{code}: {message}" : $"{code}: {file}: {message}";
}
