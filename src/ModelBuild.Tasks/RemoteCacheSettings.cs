using System;
using System.Collections.Generic;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>How to reach the remote engine cache, from the task's parameters and the environment.</summary>
public sealed class RemoteCacheSettings
{
    private RemoteCacheSettings(Uri baseUri, bool upload, TimeSpan responseTimeout, TimeSpan transferTimeout, KeyValuePair<string, string>? header)
    {
        BaseUri = baseUri;
        Upload = upload;
        ResponseTimeout = responseTimeout;
        TransferTimeout = transferTimeout;
        Header = header;
    }

    /// <summary>The cache's root; <c>ac/</c> and <c>cas/</c> are below it.</summary>
    public Uri BaseUri { get; }

    /// <summary>Whether engines compiled here are written to the cache (CI agents), or only read (developers).</summary>
    public bool Upload { get; }

    /// <summary>How long a request may wait to connect and for the response's headers.</summary>
    public TimeSpan ResponseTimeout { get; }

    /// <summary>How long one blob may take to download or upload.</summary>
    public TimeSpan TransferTimeout { get; }

    /// <summary>A header sent with every request (authorization); its value is never logged.</summary>
    public KeyValuePair<string, string>? Header { get; }

    /// <summary>The URL as logs show it: without user info.</summary>
    public string DisplayUrl => BaseUri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <param name="url">empty: no remote cache.</param>
    /// <param name="headerVariable">the environment variable that may hold a header <c>Name: value</c>.</param>
    /// <param name="warnings">receives MB6101 (the cache is then off) and MB6102 (it then goes without the header).</param>
    /// <returns>null when the remote cache is off.</returns>
    public static RemoteCacheSettings? Create(string url, bool upload, int responseTimeoutSeconds, int transferTimeoutSeconds, string headerVariable,
        Func<string, string?> environment, ICollection<CacheWarning> warnings)
    {
        url = url.Trim();
        if (url.Length == 0)
        {
            return null;
        }
        if (!Uri.TryCreate(url.EndsWith("/", StringComparison.Ordinal) ? url : url + "/", UriKind.Absolute, out var baseUri)
            || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            warnings.Add(new CacheWarning(DiagnosticCodes.RemoteCacheUrlInvalid,
                $"ModelBuildRemoteCacheUrl '{url}' is not an absolute http:// or https:// URL; the remote cache is not used."));
            return null;
        }
        KeyValuePair<string, string>? header = null;
        if (headerVariable.Length > 0 && environment(headerVariable) is { Length: > 0 } text)
        {
            var colon = text.IndexOf(':');
            var name = colon > 0 ? text.Substring(0, colon).Trim() : "";
            if (name.Length == 0 || !IsToken(name))
            {
                warnings.Add(new CacheWarning(DiagnosticCodes.RemoteCacheHeaderMalformed,
                    $"the environment variable {headerVariable} should hold one header as 'Name: value' (e.g. 'Authorization: Bearer ...'); requests to the remote cache are sent without it."));
            }
            else
            {
                header = new KeyValuePair<string, string>(name, text.Substring(colon + 1).Trim());
            }
        }
        return new RemoteCacheSettings(baseUri, upload, TimeSpan.FromSeconds(Math.Max(1, responseTimeoutSeconds)),
            TimeSpan.FromSeconds(Math.Max(1, transferTimeoutSeconds)), header);
    }

    /// <summary>RFC 7230 token characters.</summary>
    private static bool IsToken(string name)
    {
        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' || "!#$%&'*+-.^_`|~".IndexOf(c) >= 0))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>A coded warning from a cache: the build goes on without the entry.</summary>
public sealed record CacheWarning(string Code, string Message);
