using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ModelBuild.Tests;

/// <summary>
/// A real HTTP cache server for tests: nginx with WebDAV PUT over a temp folder, on a free port of 127.0.0.1, started
/// from a config file written here (no global service) and killed on dispose. Like docs/caching.md's config, plus
/// locations that misbehave on purpose: <c>/broken/</c> answers 500, <c>/private/</c> wants
/// <c>Authorization: Bearer test-token</c>, <c>/readonly/</c> refuses PUT (405).
/// </summary>
internal sealed class NginxCacheServer : IDisposable
{
    public const string Token = "test-token";

    private readonly Process _process;
    private readonly string _prefix;

    private NginxCacheServer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        Url = $"http://127.0.0.1:{port}/";
    }

    /// <summary>The cache's root URL, ending in '/'.</summary>
    public string Url { get; }

    /// <summary>The folder nginx serves; a URL path below <see cref="Url"/> is the same path below it.</summary>
    public string Store => Path.Combine(_prefix, "store");

    public static NginxCacheServer Start()
    {
        var nginx = FindNginx();
        for (var attempt = 1; ; attempt++)
        {
            var prefix = Directory.CreateTempSubdirectory("mb-nginx-").FullName;
            var port = UnusedPort();
            var process = Launch(nginx, prefix, port, out var log);
            if (WaitUntilListening(process, port))
            {
                return new NginxCacheServer(process, prefix, port);
            }
            Stop(process);
            Directory.Delete(prefix, recursive: true);
            if (attempt == 3)
            {
                Assert.Fail($"nginx did not start on 127.0.0.1:{port}:\n{log}");
            }
        }
    }

    /// <summary>A loopback URL where nothing listens: a cache server that is down.</summary>
    public static string UnusedUrl() => $"http://127.0.0.1:{UnusedPort()}/";

    public string PathOf(string urlPath) => Path.Combine(Store, urlPath.Replace('/', Path.DirectorySeparatorChar));

    public void Dispose()
    {
        Stop(_process);
        Directory.Delete(_prefix, recursive: true);
    }

    private static Process Launch(string nginx, string prefix, int port, out System.Text.StringBuilder log)
    {
        var store = Path.Combine(prefix, "store");
        var temp = Path.Combine(prefix, "temp");
        Directory.CreateDirectory(store);
        Directory.CreateDirectory(temp);
        var config = Path.Combine(prefix, "nginx.conf");
        // master_process off: one process to kill, and no switch to another user when the tests run as root.
        File.WriteAllText(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            error_log stderr error;
            pid {{prefix}}/nginx.pid;
            events { worker_connections 64; }
            http {
              access_log off;
              log_not_found off;
              client_body_temp_path {{temp}};
              proxy_temp_path {{temp}};
              fastcgi_temp_path {{temp}};
              uwsgi_temp_path {{temp}};
              scgi_temp_path {{temp}};
              client_max_body_size 0;
              server {
                listen 127.0.0.1:{{port}};
                root {{store}};
                location / {
                  dav_methods PUT;
                  create_full_put_path on;
                }
                location /broken/ {
                  return 500;
                }
                location /private/ {
                  if ($http_authorization != "Bearer {{Token}}") {
                    return 401;
                  }
                  dav_methods PUT;
                  create_full_put_path on;
                }
                location /readonly/ {
                }
              }
            }
            """);
        var start = new ProcessStartInfo(nginx) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-e", "stderr", "-p", prefix + "/", "-c", config })
        {
            start.ArgumentList.Add(argument);
        }
        var output = new System.Text.StringBuilder();
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        log = output;
        return process;
    }

    private static bool WaitUntilListening(Process process, int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }
        return false;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }
        process.WaitForExit();
        process.Dispose();
    }

    private static int UnusedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string FindNginx()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/sbin")
            .Select(d => Path.Combine(d, "nginx")).FirstOrDefault(File.Exists);
        if (path is null)
        {
            Assert.Fail("nginx is not installed; eng/prereqs.sh installs it (Debian package nginx).");
        }
        return path!;
    }
}
