using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/gateway.md, "The OpenFaaS REST API": the requests faas-cli (list, describe, invoke,
/// version, logs, login) and the connector SDK send, replayed as their sources build them (path,
/// query, User-Agent, Accept-Encoding, Basic credentials, JSON bodies), and the answers read the way
/// the faas-provider types read them: the JSON field names and types.
/// </summary>
public sealed partial class OpenFaasApiSpecs : FastTier
{
    /// <summary>faas-cli's proxy client: <c>faas-cli/VERSION</c>; its invoke adds the OS and architecture.</summary>
    private const string FaasCli = "faas-cli/0.17.8";
    private const string FaasCliInvoke = "faas-cli/0.17.8 (openfaas; linux; amd64)";

    /// <summary>What Go's net/http sends when the caller sets no User-Agent (the connector SDK's function lookup).</summary>
    private const string GoClient = "Go-http-client/1.1";

    private const string TickStack = """
        { "upstream": "UPSTREAM",
          "labels": { "com.openfaas.scale.zero": "false" },
          "annotations": { "topic": "cron-function", "schedule": "*/5 * * * *" } }
        """;

    private static string Tick(Uri upstream) => TickStack.Replace("UPSTREAM", upstream.ToString(), StringComparison.Ordinal);

    /// <summary>A request as Go's client writes it: the given User-Agent, <c>Accept-Encoding: gzip</c>, and Basic credentials when given.</summary>
    private static HttpRequestMessage GoRequest(HttpMethod method, string target, string userAgent, (string User, string Password)? login = null, string? json = null)
    {
        var request = new HttpRequestMessage(method, target);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        if (login is var (user, password))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(TestGateway gateway, HttpRequestMessage request)
    {
        using (request)
        {
            var response = await gateway.Client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
        }
    }

    /// <summary>Go's time.Time reads RFC 3339 (fraction optional, Z or an offset).</summary>
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")]
    private static partial Regex Rfc3339();

    /// <summary>Checks one object against faas-provider's FunctionStatus, as Go's encoding/json would read it.</summary>
    private static void ShouldBeFunctionStatus(JsonElement status, string name)
    {
        status.GetProperty("name").GetString().Should().Be(name);
        status.GetProperty("image").ValueKind.Should().Be(JsonValueKind.String);
        status.GetProperty("namespace").GetString().Should().Be("openfaas-fn");
        status.GetProperty("invocationCount").TryGetDouble(out _).Should().BeTrue("invocationCount is a float64");
        status.GetProperty("replicas").TryGetUInt64(out _).Should().BeTrue("replicas is a uint64");
        status.GetProperty("availableReplicas").TryGetUInt64(out _).Should().BeTrue("availableReplicas is a uint64");
        status.GetProperty("createdAt").GetString().Should().MatchRegex(Rfc3339().ToString(), "createdAt is a time.Time");
        foreach (var map in new[] { "labels", "annotations" })
        {
            if (status.TryGetProperty(map, out var values))
            {
                values.ValueKind.Should().Be(JsonValueKind.Object, map);
                values.EnumerateObject().Should().OnlyContain(p => p.Value.ValueKind == JsonValueKind.String, map + " is a map[string]string");
            }
        }

        status.TryGetProperty("envVars", out _).Should().BeFalse("environment values may be secrets and are never shown");
    }

    [Fact(Timeout = 30_000)]
    public async Task Faas_cli_list_gets_every_stack_function_as_a_FunctionStatus_with_labels_annotations_and_the_gateways_own_fields()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("tick", Tick(function.Url)), ("echo", $$"""{ "upstream": "{{function.Url}}" }""")));
        (await gateway.PostAsync("/function/echo", "x")).StatusCode.Should().Be(HttpStatusCode.OK);

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/functions", FaasCli));

        status.Should().Be(HttpStatusCode.OK, body);
        var list = JsonDocument.Parse(body).RootElement.EnumerateArray().ToList();
        list.Select(f => f.GetProperty("name").GetString()).Should().Equal("echo", "tick");
        ShouldBeFunctionStatus(list[0], "echo");
        ShouldBeFunctionStatus(list[1], "tick");
        list[0].GetProperty("invocationCount").GetDouble().Should().Be(1);
        list[0].GetProperty("replicas").GetUInt64().Should().Be(1);
        list[0].GetProperty("availableReplicas").GetUInt64().Should().Be(1);
        list[0].GetProperty("image").GetString().Should().Be(function.Url.ToString());
        list[0].TryGetProperty("labels", out _).Should().BeFalse("a function without labels has none, as Go's omitempty writes it");
        list[1].GetProperty("labels").GetProperty("com.openfaas.scale.zero").GetString().Should().Be("false");
        list[1].GetProperty("annotations").GetProperty("topic").GetString().Should().Be("cron-function");
        list[1].GetProperty("annotations").GetProperty("schedule").GetString().Should().Be("*/5 * * * *");
        list[0].GetProperty("kind").GetString().Should().Be("upstream");
        list[0].GetProperty("upstream").GetString().Should().Be(function.Url.ToString());
        list[0].GetProperty("ready").GetBoolean().Should().BeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_upstream_address_is_listed_and_named_without_its_credentials()
    {
        await using var function = await TestUpstream.StartAsync();
        var secret = new UriBuilder(function.Url) { UserName = "svc", Password = "s3cret-pass" }.Uri;
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", $$"""{ "upstream": "{{secret}}" }""")));

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/function/echo", FaasCli));

        status.Should().Be(HttpStatusCode.OK, body);
        body.Should().NotContain("s3cret-pass").And.NotContain("svc@");
        var echo = JsonDocument.Parse(body).RootElement;
        echo.GetProperty("image").GetString().Should().Be(function.Url.ToString());
        echo.GetProperty("upstream").GetString().Should().Be(function.Url.ToString());

        using var logs = await gateway.Client.GetAsync("/system/logs?name=echo");
        logs.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await logs.Content.ReadAsStringAsync()).Should().Contain($"at {function.Url}").And.NotContain("s3cret-pass");
    }

    [Fact(Timeout = 30_000)]
    public async Task Faas_cli_describe_gets_one_function_by_its_bare_or_namespaced_name_and_404_for_anything_else()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("tick", Tick(function.Url))));

        foreach (var target in new[] { "/system/function/tick?usage=1", "/system/function/tick?namespace=openfaas-fn&usage=1", "/system/function/tick.openfaas-fn?usage=1" })
        {
            var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, target, FaasCli));
            status.Should().Be(HttpStatusCode.OK, target + ": " + body);
            var tick = JsonDocument.Parse(body).RootElement;
            ShouldBeFunctionStatus(tick, "tick");
            tick.GetProperty("annotations").GetProperty("topic").GetString().Should().Be("cron-function", target);
        }

        foreach (var target in new[] { "/system/function/nope?usage=1", "/system/function/tick.dev?usage=1", "/system/function/tick?namespace=dev&usage=1", "/system/function/?usage=1" })
        {
            var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, target, FaasCli));
            status.Should().Be(HttpStatusCode.NotFound, target + ": faas-cli says \"No such function\" for 404");
            body.Should().NotBeEmpty(target);
        }

        var (_, reason, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/function/tick?namespace=dev&usage=1", FaasCli));
        reason.Should().Contain("namespace dev does not exist").And.Contain("openfaas-fn");
    }

    [Fact(Timeout = 30_000)]
    public async Task Faas_cli_version_gets_gateway_info_with_both_version_objects_filled_in()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/info", FaasCli));

        status.Should().Be(HttpStatusCode.OK, body);
        var info = JsonDocument.Parse(body).RootElement;
        var provider = info.GetProperty("provider");
        provider.GetProperty("provider").GetString().Should().Be("fwatchdog");
        provider.GetProperty("orchestration").GetString().Should().NotBeNullOrEmpty();
        foreach (var version in new[] { provider.GetProperty("version"), info.GetProperty("version") })
        {
            version.ValueKind.Should().Be(JsonValueKind.Object, "faas-cli dereferences both version objects");
            version.GetProperty("release").GetString().Should().MatchRegex(@"^\d+\.\d+\.\d+");
            version.GetProperty("sha").GetString().Should().MatchRegex("^([0-9a-f]{7,40}|unknown)$");
        }

        info.GetProperty("arch").GetString().Should().BeOneOf("x86_64", "arm64");
    }

    [Fact(Timeout = 30_000)]
    public async Task Namespaces_list_the_one_namespace_and_any_other_is_404_with_the_reason()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/namespaces", FaasCli));
        status.Should().Be(HttpStatusCode.OK);
        JsonDocument.Parse(body).RootElement.EnumerateArray().Select(n => n.GetString()).Should().Equal("openfaas-fn");

        (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/functions?namespace=openfaas-fn", FaasCli));
        status.Should().Be(HttpStatusCode.OK);
        JsonDocument.Parse(body).RootElement.GetArrayLength().Should().Be(1);

        foreach (var target in new[] { "/system/functions?namespace=dev", "/system/logs?name=echo&namespace=dev&follow=false" })
        {
            (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, target, FaasCli));
            status.Should().Be(HttpStatusCode.NotFound, target);
            body.Should().Contain("namespace dev does not exist", target);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Faas_cli_invoke_sync_and_async_with_the_namespace_suffix_reach_the_function_and_the_call_is_known_by_its_bare_name()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        using (var sync = GoRequest(HttpMethod.Post, "/function/echo.openfaas-fn", FaasCliInvoke))
        {
            sync.Content = new StringContent("hello", Encoding.UTF8, "text/plain");
            using var response = await gateway.Client.SendAsync(sync);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Be("hello");
        }

        (await function.NextAsync()).Header("User-Agent").Should().Be(FaasCliInvoke);

        string callId;
        using (var queued = GoRequest(HttpMethod.Post, "/async-function/echo.openfaas-fn", FaasCliInvoke))
        {
            queued.Content = new StringContent("later", Encoding.UTF8, "text/plain");
            using var response = await gateway.Client.SendAsync(queued);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, "faas-cli prints \"Function submitted asynchronously\" for 202");
            callId = response.Headers.GetValues("X-Call-Id").Single();
        }

        var done = await gateway.WaitForStateAsync(callId, TimeSpan.FromSeconds(10), "succeeded");
        done.GetProperty("function").GetString().Should().Be("echo");
        foreach (var filter in new[] { "echo", "echo.openfaas-fn" })
        {
            var page = await gateway.Client.GetFromJsonAsync<JsonElement>("/async-calls?function=" + filter);
            page.GetProperty("calls").EnumerateArray().Select(c => c.GetProperty("callId").GetString()).Should().Equal([callId], filter);
        }

        var (functions, listed, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/functions", FaasCli));
        functions.Should().Be(HttpStatusCode.OK);
        JsonDocument.Parse(listed).RootElement[0].GetProperty("invocationCount").GetDouble().Should().Be(2, "both calls count for echo, whichever name they used");

        foreach (var target in new[] { "/function/echo.dev", "/async-function/echo.dev" })
        {
            using var other = await gateway.PostAsync(target, "x");
            other.StatusCode.Should().Be(HttpStatusCode.NotFound, target);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task The_connector_sdk_finds_functions_by_annotation_behind_basic_auth_and_invokes_them_by_name_and_namespace()
    {
        var login = ("admin", "pa55");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            TestGateway.Stack(("tick", Tick(function.Url)), ("echo", $$"""{ "upstream": "{{function.Url}}" }""")), BasicAuth(login));

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/namespaces", GoClient, login));
        status.Should().Be(HttpStatusCode.OK);
        var topics = new List<string>();
        foreach (var ns in JsonDocument.Parse(body).RootElement.EnumerateArray().Select(n => n.GetString() ?? ""))
        {
            (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/functions?namespace=" + ns, GoClient, login));
            status.Should().Be(HttpStatusCode.OK);
            topics.AddRange(JsonDocument.Parse(body).RootElement.EnumerateArray()
                .Where(f => f.TryGetProperty("annotations", out var a) && a.TryGetProperty("topic", out var t) && t.GetString() == "cron-function")
                .Select(f => f.GetProperty("name").GetString() + "." + ns));
        }

        topics.Should().Equal("tick.openfaas-fn");

        // The cron-connector posts to {gateway}/function/{name}.{namespace} with no body and its own headers.
        using var invoke = GoRequest(HttpMethod.Post, "/function/" + topics[0], GoClient);
        invoke.Headers.Add("X-Topic", "cron-function");
        invoke.Headers.Add("X-Connector", "cron-connector");
        using var response = await gateway.Client.SendAsync(invoke);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await function.NextAsync()).Header("X-Connector").Should().Be("cron-connector");
    }

    [Fact(Timeout = 30_000)]
    public async Task Deploy_update_remove_scale_and_secrets_answer_501_saying_the_stack_file_defines_functions()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));
        const string deployment = """{"service":"echo","image":"ghcr.io/openfaas/alpine:latest","envProcess":"cat","namespace":"openfaas-fn"}""";
        var requests = new (HttpMethod Method, string Target, string? Json)[]
        {
            (HttpMethod.Post, "/system/functions", deployment),
            (HttpMethod.Put, "/system/functions", deployment),
            (HttpMethod.Delete, "/system/functions", """{"functionName":"echo","namespace":"openfaas-fn"}"""),
            (HttpMethod.Post, "/system/scale-function/echo?namespace=openfaas-fn", """{"serviceName":"echo","namespace":"openfaas-fn","replicas":2}"""),
            (HttpMethod.Get, "/system/secrets?namespace=openfaas-fn", null),
            (HttpMethod.Post, "/system/secrets", """{"name":"db","namespace":"openfaas-fn","value":"s3cret"}"""),
            (HttpMethod.Put, "/system/secrets", """{"name":"db","namespace":"openfaas-fn","value":"s3cret"}"""),
            (HttpMethod.Delete, "/system/secrets", """{"name":"db","namespace":"openfaas-fn"}"""),
        };

        foreach (var (method, target, json) in requests)
        {
            var (status, body, response) = await SendAsync(gateway, GoRequest(method, target, FaasCli, json: json));
            status.Should().Be(HttpStatusCode.NotImplemented, $"{method} {target}");
            response.Headers.GetValues("X-Gateway-Reason").Should().Equal(["not_implemented"], $"{method} {target}");
            body.Should().Contain("stack file").And.Contain("docs/gateway.md", $"{method} {target}");
        }

        function.All.Should().BeEmpty("nothing reached a function");
    }

    [Fact(Timeout = 30_000)]
    public async Task With_basic_auth_every_system_route_is_401_with_the_challenge_and_faas_cli_login_validates_against_system_functions()
    {
        var login = ("admin", "pa55");
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), BasicAuth(login));
        var routes = new (HttpMethod Method, string Target)[]
        {
            (HttpMethod.Get, "/system/functions"),
            (HttpMethod.Get, "/system/function/echo?usage=1"),
            (HttpMethod.Get, "/system/namespaces"),
            (HttpMethod.Get, "/system/info"),
            (HttpMethod.Get, "/system/logs?follow=false&name=echo"),
            (HttpMethod.Post, "/system/functions"),
            (HttpMethod.Post, "/system/scale-function/echo"),
            (HttpMethod.Get, "/system/secrets"),
        };

        foreach (var (method, target) in routes)
        {
            foreach (var credentials in new (string, string)?[] { null, ("admin", "nope") })
            {
                var (status, _, response) = await SendAsync(gateway, GoRequest(method, target, FaasCli, credentials));
                status.Should().Be(HttpStatusCode.Unauthorized, $"{method} {target} with {credentials}");
                response.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"Restricted\"");
            }
        }

        // faas-cli login: GET {gateway}/system/functions with the credentials, 200 means they work.
        var (ok, _, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/functions", "Go-http-client/1.1", login));
        ok.Should().Be(HttpStatusCode.OK);
        foreach (var (method, target) in routes.Take(4))
        {
            var (status, body, _) = await SendAsync(gateway, GoRequest(method, target, FaasCli, login));
            status.Should().Be(HttpStatusCode.OK, $"{method} {target}: {body}");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Logs_of_a_function_the_gateway_does_not_run_are_404_saying_where_they_are_and_bad_parameters_are_400()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        var (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/logs?follow=false&name=echo&tail=5", FaasCli));
        status.Should().Be(HttpStatusCode.NotFound);
        body.Should().Contain("echo").And.Contain("where it runs");

        (status, _, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/logs?follow=false&name=nope", FaasCli));
        status.Should().Be(HttpStatusCode.NotFound);

        foreach (var query in new[] { "follow=false", "name=echo&tail=ten", "name=echo&since=yesterday", "name=echo&follow=maybe" })
        {
            (status, body, _) = await SendAsync(gateway, GoRequest(HttpMethod.Get, "/system/logs?" + query, FaasCli));
            status.Should().Be(HttpStatusCode.BadRequest, query);
            body.Should().NotBeEmpty(query);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task System_routes_match_exactly_so_another_case_or_a_trailing_slash_is_404()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)));

        foreach (var path in new[] { "/System/functions", "/system/functions/", "/system/Functions", "/system/info/", "/system/namespaces/", "/system/logs/", "/system/function/echo/x" })
        {
            using var response = await gateway.Client.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
        }
    }

    private static Dictionary<string, string> BasicAuth((string User, string Password) login)
    {
        var secrets = Directory.CreateTempSubdirectory("fwatchdog-secrets-").FullName;
        File.WriteAllText(Path.Combine(secrets, "basic-auth-user"), login.User + "\n");
        File.WriteAllText(Path.Combine(secrets, "basic-auth-password"), login.Password + "\n");
        return new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = secrets };
    }
}
