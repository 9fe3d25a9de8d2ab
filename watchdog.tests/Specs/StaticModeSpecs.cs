using System.Net.Http.Headers;
using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

/// <summary>mode=static: files from static_path with types, ETag, ranges, index.html, and nothing outside the folder.</summary>
public sealed class StaticModeSpecs : FastTier, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("static-").FullName;

    public StaticModeSpecs()
    {
        Directory.CreateDirectory(Path.Combine(_root, "public", "docs"));
        File.WriteAllText(Path.Combine(_root, "public", "index.html"), "<h1>home</h1>");
        File.WriteAllText(Path.Combine(_root, "public", "style.css"), "body{}");
        File.WriteAllText(Path.Combine(_root, "public", "docs", "index.html"), "<h1>docs</h1>");
        File.WriteAllText(Path.Combine(_root, "public", "data.unknownext"), "0123456789");
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "top secret " + new string('s', 200));
    }

    [Fact(Timeout = 30_000)]
    public async Task Index_html_answers_for_the_root_and_for_folders()
    {
        await using var watchdog = await StartAsync();

        (await watchdog.Client.GetStringAsync(watchdog.Url)).Should().Be("<h1>home</h1>");
        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/docs/"))).Should().Be("<h1>docs</h1>");
    }

    [Fact(Timeout = 30_000)]
    public async Task Files_come_with_their_type_an_etag_and_ranges()
    {
        await using var watchdog = await StartAsync();

        using var css = await watchdog.Client.GetAsync(new Uri(watchdog.Url, "/style.css"));
        css.Content.Headers.ContentType?.MediaType.Should().Be("text/css");
        var etag = css.Headers.ETag ?? throw new InvalidOperationException("no ETag");

        using var conditional = new HttpRequestMessage(HttpMethod.Get, new Uri(watchdog.Url, "/style.css"));
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await watchdog.Client.SendAsync(conditional);
        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, new Uri(watchdog.Url, "/data.unknownext"));
        ranged.Headers.Range = new RangeHeaderValue(2, 4);
        using var partial = await watchdog.Client.SendAsync(ranged);
        partial.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await partial.Content.ReadAsStringAsync()).Should().Be("234");
        partial.Content.Headers.ContentType?.MediaType.Should().Be("application/octet-stream");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/docs/../../secret.txt")]
    [InlineData("/missing.txt")]
    public async Task Nothing_outside_the_folder_is_served(string target)
    {
        await using var watchdog = await StartAsync();
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);

        await client.SendHeadAsync("GET", target, 0);
        var (status, headers) = await client.ReadHeadAsync();
        var body = new MemoryStream();
        await client.ReadBodyAsync(headers, data => body.WriteAsync(data).AsTask());

        status.Should().BeOneOf(400, 404);
        System.Text.Encoding.UTF8.GetString(body.ToArray()).Should().NotContain("top secret");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/leak.txt")]
    [InlineData("/outside/secret.txt")]
    [InlineData("/outside/")]
    [InlineData("/docs/up/secret.txt")]
    public async Task A_symlink_that_leads_out_of_the_folder_serves_nothing(string target)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "public", "leak.txt"), Path.Combine(_root, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "public", "outside"), _root);
        Directory.CreateSymbolicLink(Path.Combine(_root, "public", "docs", "up"), Path.Combine(_root, "public", ".."));
        File.WriteAllText(Path.Combine(_root, "index.html"), "top secret index");
        await using var watchdog = await StartAsync();

        var (status, _, body) = await ExchangeAsync(watchdog, target);

        status.Should().Be(404);
        body.Should().NotContain("top secret");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_symlink_inside_the_folder_to_a_file_inside_serves_the_whole_file()
    {
        var content = new string('x', 5000) + "end";
        File.WriteAllText(Path.Combine(_root, "public", "docs", "long.txt"), content);
        File.CreateSymbolicLink(Path.Combine(_root, "public", "alias.txt"), Path.Combine(_root, "public", "docs", "long.txt"));
        File.CreateSymbolicLink(Path.Combine(_root, "public", "relative.txt"), "docs/long.txt");
        Directory.CreateSymbolicLink(Path.Combine(_root, "public", "manual"), Path.Combine(_root, "public", "docs"));
        await using var watchdog = await StartAsync();

        foreach (var target in new[] { "/alias.txt", "/relative.txt", "/manual/long.txt" })
        {
            var (status, headers, body) = await ExchangeAsync(watchdog, target);
            status.Should().Be(200, target);
            headers["Content-Length"].Should().Be("5003", target + " is sent with the length of the file it names, not of the link");
            body.Should().Be(content, target);
        }

        (await ExchangeAsync(watchdog, "/manual/")).Body.Should().Be("<h1>docs</h1>");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_static_path_that_is_itself_a_symlink_still_serves_its_files()
    {
        var link = Path.Combine(_root, "site");
        Directory.CreateSymbolicLink(link, Path.Combine(_root, "public"));
        await using var watchdog = await StartAsync(link);

        (await ExchangeAsync(watchdog, "/style.css")).Body.Should().Be("body{}");
        (await ExchangeAsync(watchdog, "/docs/")).Body.Should().Be("<h1>docs</h1>");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/style.css/")]
    [InlineData("/docs/index.html/")]
    [InlineData("/style.css/x")]
    public async Task A_file_path_used_as_a_folder_is_404(string target)
    {
        await using var watchdog = await StartAsync();

        var (status, headers, body) = await ExchangeAsync(watchdog, target);

        status.Should().Be(404);
        headers["X-Watchdog-Reason"].Should().Be("not-found");
        body.Should().NotContain("   at ").And.NotContain("Exception");
    }

    [Fact(Timeout = 30_000)]
    public async Task Health_is_ok_and_no_fprocess_is_needed()
    {
        await using var watchdog = await StartAsync();

        (await watchdog.Client.GetStringAsync(new Uri(watchdog.Url, "/_/health"))).Should().Be("OK");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<(int Status, Dictionary<string, string> Headers, string Body)> ExchangeAsync(TestWatchdog watchdog, string target)
    {
        await using var client = await RawHttpClient.ConnectAsync(watchdog.Url);
        return await client.ExchangeAsync("GET", target);
    }

    private Task<TestWatchdog> StartAsync(string? folder = null) =>
        TestWatchdog.StartAsync(new Dictionary<string, string?> { ["mode"] = "static", ["static_path"] = folder ?? Path.Combine(_root, "public") });
}
