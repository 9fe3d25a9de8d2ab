namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/gateway.md, "The OpenFaaS REST API": <c>GET /system/logs</c> on a local function (its
/// watchdog's lines, as faas-cli logs reads them), following and leaving, and what the function
/// routes show of a local function (its command, never its environment's values).
/// </summary>
public sealed class FunctionLogSpecs
{
    /// <summary>A local function that writes its request body to stderr, which its watchdog logs line by line.</summary>
    private const string Stderr = """{ "fprocess": "sh -c 'cat >&2'", "environment": { "API_KEY": "s3cret-value" } }""";

    private static async Task<List<JsonElement>> ReadLogsAsync(TestGateway gateway, string query)
    {
        using var response = await gateway.Client.GetAsync("/system/logs?" + query);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/x-ndjson");
        return body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
    }

    private static void ShouldBeLogMessage(JsonElement message, string name)
    {
        message.GetProperty("name").GetString().Should().Be(name);
        message.GetProperty("namespace").GetString().Should().Be("openfaas-fn");
        message.GetProperty("instance").GetString().Should().MatchRegex("^[0-9]+$");
        DateTimeOffset.TryParse(message.GetProperty("timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _).Should().BeTrue();
        message.GetProperty("text").ValueKind.Should().Be(JsonValueKind.String);
    }

    [Fact(Timeout = 60_000)]
    public async Task Logs_give_a_local_functions_recent_lines_as_newline_delimited_json_limited_by_tail_and_since()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("loud", Stderr)));
        (await gateway.PostAsync("/function/loud", "first-marker")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gateway.PostAsync("/function/loud.openfaas-fn", "second-marker")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Processes.EventuallyAsync(() => gateway.App.LocalFunctions["loud"].Log.Read(null, 0, false).Kept.Any(l => l.Text.Contains("second-marker", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)))
            .Should().BeTrue("the function's stderr reaches its log");

        // faas-cli logs loud --tail=false: name, namespace and follow, no tail (-1 is "all").
        var all = await ReadLogsAsync(gateway, "follow=false&name=loud&namespace=openfaas-fn");
        all.Should().HaveCountGreaterThan(2);
        all.ForEach(m => ShouldBeLogMessage(m, "loud"));
        all.Select(m => m.GetProperty("text").GetString()).Should().Contain(t => t!.Contains("first-marker", StringComparison.Ordinal))
            .And.Contain(t => t!.Contains("second-marker", StringComparison.Ordinal));

        // The function may still be writing (its access line), so tail=2 is compared with a read
        // taken on both sides of it that saw the same lines.
        static IEnumerable<string?> Texts(IEnumerable<JsonElement> messages) => messages.Select(m => m.GetProperty("text").GetString());
        var compared = false;
        for (var i = 0; i < 20 && !compared; i++)
        {
            var before = await ReadLogsAsync(gateway, "follow=false&name=loud");
            var lastTwo = await ReadLogsAsync(gateway, "follow=false&name=loud.openfaas-fn&tail=2");
            var after = await ReadLogsAsync(gateway, "follow=false&name=loud");
            if (Texts(before).SequenceEqual(Texts(after)))
            {
                Texts(lastTwo).Should().Equal(Texts(after.TakeLast(2)));
                compared = true;
            }
        }

        compared.Should().BeTrue("the function's log settles within 20 reads");

        var future = DateTimeOffset.UtcNow.AddMinutes(5).ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture);
        (await ReadLogsAsync(gateway, "follow=false&name=loud&since=" + Uri.EscapeDataString(future))).Should().BeEmpty();

        var instance = all[0].GetProperty("instance").GetString();
        Texts((await ReadLogsAsync(gateway, "follow=false&name=loud&instance=" + instance)).Take(all.Count)).Should().Equal(Texts(all), "one run wrote every line, and lines only come after");
        (await ReadLogsAsync(gateway, "follow=false&name=loud&instance=1")).Should().BeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Following_logs_streams_new_lines_and_a_caller_that_goes_away_stops_following()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("loud", Stderr)));
        var log = gateway.App.LocalFunctions["loud"].Log;

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (var response = await gateway.Client.GetAsync("/system/logs?follow=true&name=loud&tail=1", HttpCompletionOption.ResponseHeadersRead, cancel.Token))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
            (await reader.ReadLineAsync(cancel.Token)).Should().NotBeNull("tail=1 gives the last kept line first");
            log.Followers.Should().Be(1);

            (await gateway.PostAsync("/function/loud", "followed-marker")).StatusCode.Should().Be(HttpStatusCode.OK);
            string? seen = null;
            for (var i = 0; i < 100 && seen is null; i++)
            {
                var line = await reader.ReadLineAsync(cancel.Token) ?? throw new InvalidOperationException("the follow stream ended");
                var message = JsonDocument.Parse(line).RootElement;
                ShouldBeLogMessage(message, "loud");
                seen = message.GetProperty("text").GetString() is { } text && text.Contains("followed-marker", StringComparison.Ordinal) ? text : null;
            }

            seen.Should().NotBeNull("a line written while following arrives on the stream");
        }

        (await Processes.EventuallyAsync(() => log.Followers == 0, TimeSpan.FromSeconds(10)))
            .Should().BeTrue("a caller that closed its connection is no longer a follower");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_follow_ends_with_a_complete_response_before_write_timeout_would_cut_the_connection()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("loud", Stderr)), new Dictionary<string, string> { ["write_timeout"] = "3s" });

        using var response = await gateway.Client.GetAsync("/system/logs?follow=true&name=loud", HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var read = response.Content.ReadAsStringAsync();
        (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20)))).Should().BeSameAs(read, "the follow ends by itself");
        var body = await read;
        body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().NotBeEmpty().And.OnlyContain(line => JsonDocument.Parse(line, default).RootElement.ValueKind == JsonValueKind.Object,
            "a client decoding the stream (faas-cli logs) sees whole lines and a clean end, not a broken connection");
        (await Processes.EventuallyAsync(() => gateway.App.LocalFunctions["loud"].Log.Followers == 0, TimeSpan.FromSeconds(10))).Should().BeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_local_function_shows_its_command_and_never_its_environments_values()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("loud", Stderr)));

        foreach (var target in new[] { "/system/functions", "/system/function/loud" })
        {
            using var response = await gateway.Client.GetAsync(target);
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(HttpStatusCode.OK, body);
            body.Should().NotContain("s3cret-value", target).And.NotContain("API_KEY", target).And.NotContain("envVars", target);
            var loud = target == "/system/functions" ? JsonDocument.Parse(body).RootElement[0] : JsonDocument.Parse(body).RootElement;
            loud.GetProperty("envProcess").GetString().Should().Be("sh -c 'cat >&2'");
            loud.GetProperty("image").GetString().Should().Be("local");
            loud.GetProperty("kind").GetString().Should().Be("local");
            loud.GetProperty("availableReplicas").GetInt32().Should().Be(1);
        }
    }
}
