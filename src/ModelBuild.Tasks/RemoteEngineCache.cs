using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// The engine cache that build agents share, over HTTP in the Bazel remote-cache layout (DESIGN.md decision 7):
/// <c>GET/PUT ac/&lt;key&gt;</c> holds an ActionResult naming the engine's SHA-256 (<see cref="ActionResultCodec"/>),
/// <c>cas/&lt;sha256&gt;</c> the engine's bytes; bazel-remote and nginx WebDAV serve it. A downloaded engine is
/// verified before it is renamed into place, so a bad entry is a miss, never an input. Nothing here fails a build:
/// problems are <see cref="CacheWarning"/>s, and after the first sign that the server is down or refuses us
/// (unreachable, timeout, HTTP 5xx, 401/403) every later call is a quiet miss, so one build waits at most one timeout.
/// One instance (one HttpClient) serves one build; calls may run in parallel.
/// </summary>
public sealed class RemoteEngineCache : IDisposable
{
    private readonly HttpClient _client;
    private int _off;

    public RemoteEngineCache(RemoteCacheSettings settings)
    {
        Settings = settings;
        _client = new HttpClient(new HttpClientHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        if (settings.Header is { } header)
        {
            _client.DefaultRequestHeaders.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    public RemoteCacheSettings Settings { get; }

    /// <summary>False once the server was found down or refusing; the cache is then skipped.</summary>
    public bool IsAvailable => Volatile.Read(ref _off) == 0;

    /// <summary>Downloads the engine cached under <paramref name="key"/> to <paramref name="destination"/>, verified.</summary>
    /// <exception cref="OperationCanceledException">the build was cancelled.</exception>
    public RemoteCacheResult TryRestore(string key, string destination, CancellationToken cancellation) =>
        Guard("GET", key, token => RestoreAsync(key, destination, token), cancellation);

    /// <summary>
    /// Uploads <paramref name="engineFile"/> under <paramref name="key"/>, the blob first (skipped when the server has
    /// it), then the entry that points to it; with <see cref="RemoteCacheSettings.Upload"/> false, sends nothing.
    /// </summary>
    /// <exception cref="OperationCanceledException">the build was cancelled.</exception>
    public RemoteCacheResult Store(string key, string engineFile, CancellationToken cancellation) =>
        Settings.Upload ? Guard("PUT", key, token => StoreAsync(key, engineFile, token), cancellation) : RemoteCacheResult.Miss;

    public void Dispose() => _client.Dispose();

    private async Task<RemoteCacheResult> RestoreAsync(string key, string destination, CancellationToken cancellation)
    {
        string sha;
        long size;
        using (var timeout = StartTimeout(cancellation))
        using (var response = await Send(HttpMethod.Get, ActionPath(key), null, timeout.Token).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return RemoteCacheResult.Miss;
            }
            if (!response.IsSuccessStatusCode)
            {
                return Refused(response, ActionPath(key));
            }
            timeout.CancelAfter(Settings.TransferTimeout);
            var entry = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (!ActionResultCodec.TryDecode(entry, out sha, out size))
            {
                return RemoteCacheResult.Warn(DiagnosticCodes.RemoteCacheEntryCorrupt,
                    $"the remote cache entry {Url(ActionPath(key))} is not an ActionResult naming an engine; it was ignored and the model is compiled here");
            }
        }

        var temp = AtomicFile.TempPath(destination);
        try
        {
            using (var timeout = StartTimeout(cancellation))
            using (var response = await Send(HttpMethod.Get, ContentPath(sha), null, timeout.Token).ConfigureAwait(false))
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // The server evicted the blob but kept the entry (bazel-remote's LRU does): an ordinary miss.
                    return RemoteCacheResult.Miss;
                }
                if (!response.IsSuccessStatusCode)
                {
                    return Refused(response, ContentPath(sha));
                }
                timeout.CancelAfter(Settings.TransferTimeout);
                string actual;
                long length;
                using (var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
                using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                using (var sha256 = SHA256.Create())
                using (var hashing = new CryptoStream(target, sha256, CryptoStreamMode.Write))
                {
                    await body.CopyToAsync(hashing, 1 << 16, timeout.Token).ConfigureAwait(false);
                    hashing.FlushFinalBlock();
                    actual = Sha256Hex.ToHex(sha256.Hash!);
                    length = target.Length;
                }
                if (!string.Equals(actual, sha, StringComparison.Ordinal) || length != size)
                {
                    return RemoteCacheResult.Warn(DiagnosticCodes.RemoteCacheEntryCorrupt,
                        $"the remote cache blob {Url(ContentPath(sha))} has SHA-256 {actual} ({length} bytes), expected {sha} ({size} bytes); it was ignored and the model is compiled here");
                }
            }
            AtomicFile.Replace(temp, destination);
            return RemoteCacheResult.Done;
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    private async Task<RemoteCacheResult> StoreAsync(string key, string engineFile, CancellationToken cancellation)
    {
        var sha = EngineCacheKey.HashFile(engineFile);
        var size = new FileInfo(engineFile).Length;
        bool present;
        using (var timeout = StartTimeout(cancellation))
        using (var head = await Send(HttpMethod.Head, ContentPath(sha), null, timeout.Token).ConfigureAwait(false))
        {
            if ((int)head.StatusCode >= 500)
            {
                return Down($"HEAD {ContentPath(sha)} answered HTTP {(int)head.StatusCode} {head.ReasonPhrase}");
            }
            present = head.IsSuccessStatusCode;
        }
        if (!present)
        {
            using var timeout = StartTimeout(cancellation, Settings.TransferTimeout);
            using var engine = new FileStream(engineFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            using var put = await Send(HttpMethod.Put, ContentPath(sha), new StreamContent(engine, 1 << 16), timeout.Token).ConfigureAwait(false);
            if (!put.IsSuccessStatusCode)
            {
                return UploadFailed(put, ContentPath(sha));
            }
        }
        using (var timeout = StartTimeout(cancellation))
        using (var put = await Send(HttpMethod.Put, ActionPath(key), new ByteArrayContent(ActionResultCodec.Encode(sha, size)), timeout.Token).ConfigureAwait(false))
        {
            return put.IsSuccessStatusCode ? RemoteCacheResult.Done : UploadFailed(put, ActionPath(key));
        }
    }

    /// <summary>Turns what the network throws into warnings; only the build's own cancellation goes through.</summary>
    private RemoteCacheResult Guard(string method, string key, Func<CancellationToken, Task<RemoteCacheResult>> operation, CancellationToken cancellation)
    {
        if (!IsAvailable)
        {
            return RemoteCacheResult.Miss;
        }
        try
        {
            return operation(cancellation).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return Down($"{method} for key {Short(key)} did not finish within its timeout ({Seconds(Settings.ResponseTimeout)} to answer, {Seconds(Settings.TransferTimeout)} to transfer)");
        }
        catch (HttpRequestException e)
        {
            return Down($"{method} for key {Short(key)} failed: {Innermost(e)}");
        }
        catch (IOException e)
        {
            // A connection reset in the middle of a body, or a local file that cannot be written: the build compiles instead.
            return Down($"{method} for key {Short(key)} failed: {e.Message}");
        }
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, HttpContent? content, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(method, new Uri(Settings.BaseUri, path)) { Content = content };
        return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
    }

    private CancellationTokenSource StartTimeout(CancellationToken cancellation, TimeSpan? after = null)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(after ?? Settings.ResponseTimeout);
        return timeout;
    }

    /// <summary>A failed read: 5xx means the server is down; any other status (401, 403, 400...) that it refuses us.</summary>
    private RemoteCacheResult Refused(HttpResponseMessage response, string path)
    {
        var status = $"GET {path} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        if ((int)response.StatusCode >= 500)
        {
            return Down(status);
        }
        return TurnOff(DiagnosticCodes.RemoteCacheRefused,
            $"the remote cache {Settings.DisplayUrl} refused a read ({status}); check the header in the environment variable named by ModelBuildRemoteCacheHeaderVariable. The remote cache is not used again in this build");
    }

    private RemoteCacheResult UploadFailed(HttpResponseMessage response, string path)
    {
        var status = $"PUT {path} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        if ((int)response.StatusCode >= 500)
        {
            return Down(status);
        }
        var hint = response.StatusCode switch
        {
            HttpStatusCode.MethodNotAllowed => "the server does not accept PUT: enable it (nginx: dav_methods PUT; create_full_put_path on;)",
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => "this agent may not write: check the header, or set ModelBuildRemoteCacheUpload=false",
            HttpStatusCode.RequestEntityTooLarge => "the engine is larger than the server accepts (nginx: client_max_body_size 0;)",
            _ => "check the server's log",
        };
        return RemoteCacheResult.Warn(DiagnosticCodes.RemoteCacheUploadFailed,
            $"the engine could not be uploaded to the remote cache {Settings.DisplayUrl} ({status}): {hint}");
    }

    private RemoteCacheResult Down(string what) =>
        TurnOff(DiagnosticCodes.RemoteCacheUnavailable,
            $"the remote cache {Settings.DisplayUrl} is unavailable ({what}); models are compiled here and the remote cache is not used again in this build");

    /// <summary>The first caller to find the server unusable reports it; calls racing with it are quiet misses.</summary>
    private RemoteCacheResult TurnOff(string code, string message) =>
        Interlocked.Exchange(ref _off, 1) == 0 ? RemoteCacheResult.Warn(code, message) : RemoteCacheResult.Miss;

    private string Url(string path) => new Uri(new Uri(Settings.DisplayUrl), path).ToString();

    private static string ActionPath(string key) => "ac/" + key;

    private static string ContentPath(string sha256) => "cas/" + sha256;

    private static string Short(string key) => key.Length > 12 ? key.Substring(0, 12) : key;

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " s";

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }
}

/// <summary>What a remote cache call came to: <see cref="Succeeded"/> (a verified hit, or an upload), and a warning to log, if any.</summary>
public sealed record RemoteCacheResult(bool Succeeded, CacheWarning? Warning)
{
    public static RemoteCacheResult Done { get; } = new(true, null);

    public static RemoteCacheResult Miss { get; } = new(false, null);

    public static RemoteCacheResult Warn(string code, string message) => new(false, new CacheWarning(code, message));
}
