namespace ModelBuild.Diagnostics;

/// <summary>MB61xx: the remote HTTP engine cache. Every one is a warning: the cache never fails a build.</summary>
public static partial class DiagnosticCodes
{
    /// <summary>Warning: ModelBuildRemoteCacheUrl is not an absolute http or https URL; the remote cache is off.</summary>
    public const string RemoteCacheUrlInvalid = "MB6101";
    /// <summary>Warning: the environment variable meant to hold the cache's header is not <c>Name: value</c>; requests go without it.</summary>
    public const string RemoteCacheHeaderMalformed = "MB6102";
    /// <summary>Warning: the remote cache could not be reached, timed out or answered HTTP 5xx; it is off for the rest of the build.</summary>
    public const string RemoteCacheUnavailable = "MB6103";
    /// <summary>Warning: a remote cache entry was unreadable or its content failed the SHA-256 check; it was a miss.</summary>
    public const string RemoteCacheEntryCorrupt = "MB6104";
    /// <summary>Warning: the remote cache refused a read (HTTP 401, 403 or another 4xx but 404); it is off for the rest of the build.</summary>
    public const string RemoteCacheRefused = "MB6105";
    /// <summary>Warning: an engine could not be uploaded to the remote cache (the build goes on).</summary>
    public const string RemoteCacheUploadFailed = "MB6106";
}
