using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/console.md: the console's files come from the binary with headers that keep a function's
/// output from running as script, its numbers route, and the operator gate; docs/security.md: a
/// browser cannot be made to change calls from another site's page.
/// </summary>
public sealed partial class ConsoleSpecs : FastTier
{
    private static readonly string[] Modules = ["main.js", "api.js", "dom.js", "functions.js", "invoke.js", "calls.js", "call.js", "logs.js"];

    internal static async Task<string> SecretsAsync()
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-user"), "admin\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-password"), "pa55\n");
        return secrets;
    }

    internal static AuthenticationHeaderValue Operator(string credentials = "admin:pa55") => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));

    [Fact(Timeout = 30_000)]
    public async Task The_console_is_served_from_the_binary_with_a_policy_that_allows_only_its_own_scripts_and_styles_and_no_framing()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        using (var bare = await gateway.Client.GetAsync("/ui"))
        {
            bare.StatusCode.Should().Be(HttpStatusCode.PermanentRedirect);
            bare.Headers.Location?.OriginalString.Should().Be("/ui/");
        }

        using var page = await gateway.Client.GetAsync("/ui/");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType?.ToString().Should().Be("text/html; charset=utf-8");
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        policy.Should().Contain("script-src 'self'").And.Contain("style-src 'self'").And.Contain("frame-ancestors 'none'").And.NotContain("unsafe");
        page.Headers.GetValues("X-Frame-Options").Single().Should().Be("DENY");
        page.Headers.GetValues("X-Content-Type-Options").Single().Should().Be("nosniff");
        var html = await page.Content.ReadAsStringAsync();
        InlineScript().IsMatch(html).Should().BeFalse("every script is a file the policy allows");
        html.Should().NotContain("<style").And.NotContain("style=").And.NotContain("http://").And.NotContain("https://", "nothing comes from elsewhere");

        foreach (var module in Modules)
        {
            using var script = await gateway.Client.GetAsync("/ui/" + module);
            script.StatusCode.Should().Be(HttpStatusCode.OK, module);
            script.Content.Headers.ContentType?.ToString().Should().Be("text/javascript; charset=utf-8", module);
            script.Headers.GetValues("Content-Security-Policy").Should().ContainSingle(module);
            var code = await script.Content.ReadAsStringAsync();
            code.Should().NotContainAny(["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"], $"{module} puts values in the page as text only");
            code.Should().NotContainAny(["http://", "https://"], $"{module} loads nothing from elsewhere");
        }

        using var css = await gateway.Client.GetAsync("/ui/console.css");
        css.Content.Headers.ContentType?.ToString().Should().Be("text/css; charset=utf-8");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_console_file_carries_an_ETag_and_is_304_while_it_is_unchanged()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));
        using var first = await gateway.Client.GetAsync("/ui/main.js");
        var tag = first.Headers.ETag ?? throw new InvalidOperationException("no ETag on /ui/main.js");
        first.Headers.CacheControl?.NoCache.Should().BeTrue();

        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/main.js");
        again.Headers.IfNoneMatch.Add(tag);
        using var unchanged = await gateway.Client.SendAsync(again);
        unchanged.StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await unchanged.Content.ReadAsByteArrayAsync()).Should().BeEmpty();

        using var other = new HttpRequestMessage(HttpMethod.Get, "/ui/main.js");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        (await gateway.Client.SendAsync(other)).StatusCode.Should().Be(HttpStatusCode.OK);

        using var index = await gateway.Client.GetAsync("/ui/");
        index.Headers.ETag.Should().NotBe(tag, "each file has its own tag");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("GET", "/UI/")]
    [InlineData("GET", "/Ui")]
    [InlineData("GET", "/ui/nothing.js")]
    [InlineData("GET", "/ui/api/functions/")]
    [InlineData("GET", "/uix")]
    [InlineData("POST", "/ui/")]
    public async Task Other_paths_and_methods_under_the_console_are_404_or_405(string method, string path)
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));
        using var response = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        response.StatusCode.Should().Be(method == "POST" ? HttpStatusCode.MethodNotAllowed : HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_functions_route_counts_calls_and_errors_per_function_and_its_queued_and_running_async_calls()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            if (request.Text == "hold")
            {
                await release.Task;
            }

            context.Response.StatusCode = request.Text == "fail" ? 500 : 200;
            await context.Response.WriteAsync(request.Text);
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(
            ("slow", $$"""{ "upstream": "{{function.Url}}", "max_concurrency": 1 }"""), ("echo", $$"""{ "upstream": "{{function.Url}}" }""")));
        foreach (var body in new[] { "ok", "fail", "ok", "fail", "ok" })
        {
            using var _ = await gateway.PostAsync("/function/echo", body);
        }

        var running = TestGateway.Remember(await gateway.PostAsync("/async-function/slow", "hold"));
        await gateway.WaitForStateAsync(running, TimeSpan.FromSeconds(20), "running");
        using var _2 = await gateway.PostAsync("/async-function/slow", "ok");
        using var _3 = await gateway.PostAsync("/async-function/slow", "ok");
        try
        {
            var overview = await gateway.Client.GetFromJsonAsync<JsonElement>("/ui/api/functions");
            overview.GetProperty("basicAuth").GetBoolean().Should().BeFalse();
            var functions = overview.GetProperty("functions").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString() ?? "");
            functions.Keys.Should().Equal("echo", "slow");
            functions["echo"].GetProperty("invocationCount").GetInt64().Should().Be(5);
            functions["echo"].GetProperty("errorCount").GetInt64().Should().Be(2);
            functions["slow"].GetProperty("running").GetInt64().Should().Be(1);
            functions["slow"].GetProperty("queued").GetInt64().Should().Be(2);
        }
        finally
        {
            release.SetResult();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task The_functions_route_counts_the_calls_of_a_stack_function_that_goes_to_upstream_template()
    {
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.StatusCode = request.Text == "fail" ? 500 : 200;
            return context.Response.WriteAsync(request.Text);
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("tpl", "{}")),
            new Dictionary<string, string> { ["upstream_template"] = $"http://127.0.0.1:{function.Url.Port}/{{name}}", ["upstream_allow_local"] = "true" });
        foreach (var body in new[] { "ok", "fail", "ok" })
        {
            using var _ = await gateway.PostAsync("/function/tpl", body);
        }

        var overview = await gateway.Client.GetFromJsonAsync<JsonElement>("/ui/api/functions");
        var tpl = overview.GetProperty("functions").EnumerateArray().Single();
        tpl.GetProperty("name").GetString().Should().Be("tpl");
        tpl.GetProperty("invocationCount").GetInt64().Should().Be(3, "the calls are counted under the template's name.namespace");
        tpl.GetProperty("errorCount").GetInt64().Should().Be(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task With_basic_auth_the_console_its_files_and_its_route_are_401_with_a_challenge_without_the_credentials()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = await SecretsAsync() });
        foreach (var path in new[] { "/ui", "/ui/", "/ui/main.js", "/ui/api/functions" })
        {
            foreach (var credentials in new[] { null, "admin:nope" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Authorization = credentials is null ? null : Operator(credentials);
                using var refused = await gateway.Client.SendAsync(request);
                refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{path} with {credentials ?? "no credentials"}");
                refused.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"Restricted\"");
            }

            using var allowed = new HttpRequestMessage(HttpMethod.Get, path);
            allowed.Headers.Authorization = Operator();
            using var answer = await gateway.Client.SendAsync(allowed);
            ((int)answer.StatusCode).Should().BeOneOf([200, 308], path);
        }

        using var overview = new HttpRequestMessage(HttpMethod.Get, "/ui/api/functions");
        overview.Headers.Authorization = Operator();
        var body = await (await gateway.Client.SendAsync(overview)).Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("basicAuth").GetBoolean().Should().BeTrue();
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();
}
