using ModelBuild.Diagnostics;
using ModelBuild.Tasks;

namespace ModelBuild.Tasks.Tests;

[TestClass]
public sealed class RemoteCacheSettingsTests
{
    private static RemoteCacheSettings? Create(string url, string? header, List<CacheWarning> warnings) =>
        RemoteCacheSettings.Create(url, upload: true, 10, 300, "CACHE_HEADER", name => name == "CACHE_HEADER" ? header : null, warnings);

    [TestMethod]
    public void An_empty_url_turns_the_remote_cache_off_silently()
    {
        var warnings = new List<CacheWarning>();
        Assert.IsNull(Create("  ", null, warnings));
        Assert.IsEmpty(warnings);
    }

    [TestMethod]
    [DataRow("cache.example.com/ac")]
    [DataRow("ftp://cache.example.com/")]
    [DataRow("/var/cache")]
    public void A_url_that_is_not_http_is_MB6101_and_no_remote_cache(string url)
    {
        var warnings = new List<CacheWarning>();
        Assert.IsNull(Create(url, null, warnings));
        Assert.AreEqual(DiagnosticCodes.RemoteCacheUrlInvalid, warnings.Single().Code);
    }

    [TestMethod]
    public void The_base_url_gets_a_trailing_slash_and_logs_show_no_user_info()
    {
        var settings = Create("https://ci:pa55@cache.example.com:9090/models", null, [])!;
        Assert.AreEqual("https://ci:pa55@cache.example.com:9090/models/", settings.BaseUri.ToString());
        Assert.AreEqual("https://cache.example.com:9090/models/", settings.DisplayUrl);
    }

    [TestMethod]
    public void The_header_variable_holds_name_and_value()
    {
        var settings = Create("http://127.0.0.1:1/", "Authorization: Bearer a:b", [])!;
        Assert.AreEqual(new KeyValuePair<string, string>("Authorization", "Bearer a:b"), settings.Header);
    }

    [TestMethod]
    public void A_malformed_header_is_MB6102_without_its_value()
    {
        var warnings = new List<CacheWarning>();
        var settings = Create("http://127.0.0.1:1/", "Bearer s3cr3t", warnings);
        Assert.IsNotNull(settings);
        Assert.IsNull(settings.Header);
        Assert.AreEqual(DiagnosticCodes.RemoteCacheHeaderMalformed, warnings.Single().Code);
        StringAssert.Contains(warnings.Single().Message, "CACHE_HEADER");
        Assert.IsFalse(warnings.Single().Message.Contains("s3cr3t", StringComparison.Ordinal));
    }
}
