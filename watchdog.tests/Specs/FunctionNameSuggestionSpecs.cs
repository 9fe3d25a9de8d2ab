namespace Fwatchdog.Tests.Specs;

/// <summary>A mistyped function name gets a 404 that names the function it resembles, where that tells the caller nothing new.</summary>
public sealed class FunctionNameSuggestionSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task A_mistyped_function_name_gets_a_404_suggesting_the_closest_stack_file_function_sync_and_async()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url), ("word-count", function.Url)));

        foreach (var (path, suggestion) in new[] { ("/function/wrod-count", "word-count"), ("/async-function/ecoh", "echo") })
        {
            using var response = await gateway.PostAsync(path, "x");
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
            response.Headers.GetValues("X-Gateway-Reason").Should().Equal("function_not_found");
            (await response.Content.ReadAsStringAsync()).Should().Contain($"is not in the stack file; did you mean {suggestion}?", path);
        }

        using var unlike = await gateway.PostAsync("/function/resize", "x");
        (await unlike.Content.ReadAsStringAsync()).Should().NotContain("did you mean", "no function is close to resize");
    }

    [Fact(Timeout = 30_000)]
    public async Task With_basic_auth_or_a_template_a_404_suggests_no_name()
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-user"), "admin\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "basic-auth-password"), "pa55\n");
        await using var function = await TestUpstream.StartAsync();
        await using var guarded = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = secrets });
        await using var templated = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)),
            new Dictionary<string, string> { ["upstream_template"] = "http://{name}.{namespace}.invalid:8080" });

        foreach (var (gateway, why) in new[] { (guarded, "with basic_auth the function list is the operator's"), (templated, "a templated name that does not resolve gets the one answer for all") })
        {
            using var response = await gateway.PostAsync("/function/ecoh", "x");
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, why);
            (await response.Content.ReadAsStringAsync()).Should().NotContain("did you mean", why);
        }
    }
}
