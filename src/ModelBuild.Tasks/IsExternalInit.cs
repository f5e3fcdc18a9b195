namespace System.Runtime.CompilerServices;

/// <summary>netstandard2.0 lacks the marker type that C# records and init accessors need.</summary>
internal static class IsExternalInit
{
}
