using OpenQA.Selenium;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// docs/console.md, in a real browser (Debian's headless Chromium): invoking a function, watching
/// a queued call succeed, replaying a dead call, cancelling a queued one, the operator's sign-in,
/// and a function's hostile output shown as text. One browser for the class; each spec its own gateway.
/// </summary>
public sealed class ConsoleBrowserSpecs(Chromium browser) : IClassFixture<Chromium>
{
    private const string Hostile = "<img src=x onerror=\"document.title='owned'\"><script>document.title='owned'</script>";

    private static string Stack(TestUpstream function, string extra = "") =>
        TestGateway.Stack(("echo", $$"""{ "upstream": "{{function.Url}}" {{extra}} }"""));

    private static Task<TestUpstream> EchoAsync() => TestUpstream.StartAsync((context, request) =>
    {
        context.Response.Headers["X-Echo"] = "yes";
        return context.Response.WriteAsync("hello " + request.Text);
    });

    private void Open(TestGateway gateway, string hash)
    {
        browser.Open(new Uri(gateway.Url, "/ui/" + hash));
        browser.WaitFor(By.Id("access"), e => e.Text.Length > 0);
    }

    private void Invoke(string mode, string body)
    {
        browser.WaitFor(By.Id("invoke-send"));
        browser.Driver.FindElement(By.CssSelector($"#invoke-mode option[value='{mode}']")).Click();
        var input = browser.Driver.FindElement(By.Id("invoke-body"));
        input.Clear();
        input.SendKeys(body);
        browser.Driver.FindElement(By.Id("invoke-send")).Click();
    }

    /// <summary>Invokes async from the form; returns the call id the page links, whose status path (with the token the tab keeps) the spec then knows too.</summary>
    private string InvokeAsync(string body)
    {
        var before = browser.Driver.FindElements(By.CssSelector("#invoke-call a")).FirstOrDefault()?.Text;
        Invoke("async", body);
        var callId = browser.WaitFor(By.CssSelector("#invoke-call a"), link => link.Text != before).Text;
        var handle = browser.Driver.ExecuteScript("return sessionStorage.getItem('call:' + arguments[0]);", callId) as string;
        TestGateway.Learn(callId, "/async-calls/" + (handle ?? throw new InvalidOperationException($"the tab keeps no token for {callId}")));
        return callId;
    }

    [Fact(Timeout = 120_000)]
    public async Task Invoking_a_function_from_the_form_shows_its_status_headers_and_body()
    {
        await using var function = await EchoAsync();
        await using var gateway = await TestGateway.StartAsync(Stack(function));
        Open(gateway, "#/invoke?function=echo");
        Invoke("sync", "from the browser");

        browser.WaitForText(By.Id("invoke-status"), "200");
        browser.Driver.FindElement(By.Id("invoke-body-out")).Text.Should().Be("hello from the browser");
        browser.Driver.FindElement(By.Id("invoke-result")).Text.Should().Contain("x-echo").And.Contain("yes");
        (await function.NextAsync()).Text.Should().Be("from the browser");
    }

    [Fact(Timeout = 120_000)]
    public async Task An_async_call_from_the_form_is_seen_succeeding_in_the_calls_list_and_its_page_shows_the_result()
    {
        await using var function = await EchoAsync();
        await using var gateway = await TestGateway.StartAsync(Stack(function));
        Open(gateway, "#/invoke?function=echo");
        var callId = InvokeAsync("queued");
        browser.WaitForText(By.Id("invoke-status"), "202");

        browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/calls?function=echo"));
        browser.WaitFor(By.CssSelector($"tr[data-call='{callId}']"), row => row.Text.Contains("succeeded", StringComparison.Ordinal), "succeeded (live refresh)");

        browser.Driver.FindElement(By.LinkText(callId)).Click();
        browser.WaitForText(By.Id("call-state"), "succeeded");
        browser.WaitForText(By.Id("call-result"), "hello queued");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_dead_call_is_replayed_from_its_page_and_dead_calls_in_bulk_from_the_list_and_they_succeed()
    {
        var failing = true;
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.StatusCode = Volatile.Read(ref failing) ? 503 : 200;
            return context.Response.WriteAsync("answer to " + request.Text);
        });
        await using var gateway = await TestGateway.StartAsync(Stack(function, """, "max_attempts": 1"""));
        Open(gateway, "#/invoke?function=echo");
        var fromConsole = InvokeAsync("one");
        var fromScript = TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "two"));
        await gateway.WaitForStateAsync(fromConsole, TimeSpan.FromSeconds(20), "dead");
        await gateway.WaitForStateAsync(fromScript, TimeSpan.FromSeconds(20), "dead");
        Volatile.Write(ref failing, false);

        browser.Driver.FindElement(By.LinkText(fromConsole)).Click();
        browser.WaitForText(By.Id("call-state"), "dead");
        browser.Driver.FindElement(By.Id("call-replay")).Click();
        browser.WaitForText(By.Id("call-state"), "succeeded");
        browser.WaitForText(By.Id("call-result"), "answer to one");

        browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/calls?function=echo&state=dead"));
        browser.WaitFor(By.CssSelector($"tr[data-call='{fromScript}']"));
        browser.Driver.FindElement(By.Id("bulk-replay")).Click();
        browser.Confirm();
        browser.WaitForText(By.Id("bulk-result"), "Replayed 1 of 1");
        (await gateway.WaitForStateAsync(fromScript, TimeSpan.FromSeconds(20), "succeeded")).GetProperty("statusCode").GetInt32().Should().Be(200);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_queued_call_is_cancelled_from_its_page_and_queued_calls_in_bulk_from_the_list()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await release.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("done");
        });
        await using var gateway = await TestGateway.StartAsync(Stack(function, """, "max_concurrency": 1"""));
        try
        {
            var blocker = TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "blocker"));
            await gateway.WaitForStateAsync(blocker, TimeSpan.FromSeconds(20), "running");
            Open(gateway, "#/invoke?function=echo");
            var queued = InvokeAsync("waits");
            var others = new[] { TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "a")), TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "b")) };

            browser.Driver.FindElement(By.LinkText(queued)).Click();
            browser.WaitForText(By.Id("call-state"), "queued");
            browser.Driver.FindElement(By.Id("call-cancel")).Click();
            browser.WaitForText(By.Id("call-state"), "cancelled");

            browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/calls?function=echo&state=queued"));
            browser.WaitFor(By.CssSelector($"tr[data-call='{others[0]}']"));
            browser.Driver.FindElement(By.Id("bulk-cancel")).Click();
            browser.Confirm();
            browser.WaitForText(By.Id("bulk-result"), "Cancelled 2 of 2");
            foreach (var id in others)
            {
                await gateway.WaitForStateAsync(id, TimeSpan.FromSeconds(5), "cancelled");
            }

            (await gateway.Client.GetFromJsonAsync<JsonElement>(TestGateway.StatusOf(blocker))).GetProperty("state").GetString().Should().Be("running", "bulk cancel leaves running calls alone");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Without_basic_auth_a_call_the_tab_did_not_queue_does_not_open_and_the_page_says_why()
    {
        await using var function = await EchoAsync();
        await using var gateway = await TestGateway.StartAsync(Stack(function));
        var stranger = TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "not yours"));
        await gateway.WaitForStateAsync(stranger, TimeSpan.FromSeconds(20), "succeeded");

        Open(gateway, "#/calls");
        browser.Driver.FindElement(By.Id("access")).Text.Should().Contain("basic_auth is off");
        browser.WaitFor(By.CssSelector($"tr[data-call='{stranger}']")).Text.Should().Contain("succeeded", "the listing shows every call");
        browser.Driver.FindElement(By.LinkText(stranger)).Click();
        browser.WaitForText(By.Id("call"), "a call id alone opens nothing");
        browser.Driver.FindElements(By.Id("call-result")).Should().BeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task With_basic_auth_the_console_asks_for_credentials_and_with_them_opens_any_call()
    {
        await using var function = await EchoAsync();
        await using var gateway = await TestGateway.StartAsync(Stack(function),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = await ConsoleSpecs.SecretsAsync() });
        var stranger = TestGateway.Remember(await gateway.PostAsync("/async-function/echo", "from a script"));
        await gateway.WaitForStateAsync(stranger, TimeSpan.FromSeconds(20), "succeeded");

        browser.Open(new Uri(gateway.Url, "/ui/"));
        browser.WaitFor(By.TagName("body")).Text.Should().NotContain("Functions", "without credentials the console does not open");
        browser.Driver.FindElements(By.Id("page")).Should().BeEmpty();

        var signedIn = new UriBuilder(gateway.Url) { UserName = "admin", Password = "pa55", Path = "/ui/", Fragment = "/call/" + stranger }.Uri;
        browser.Open(signedIn);
        browser.WaitForText(By.Id("access"), "Signed in");
        browser.WaitForText(By.Id("call-state"), "succeeded");
        browser.WaitForText(By.Id("call-result"), "hello from a script");
    }

    /// <summary>
    /// The pages docs/console.md shows, each with its data; with FWATCHDOG_CONSOLE_SCREENSHOTS set
    /// to a folder, each page is saved there as a PNG (how docs/console.md's pictures are made).
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task The_functions_calls_call_and_log_pages_show_what_the_gateway_knows()
    {
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.StatusCode = request.Text == "fail" ? 503 : 200;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($$"""{"greeting":"hello {{request.Text}}"}""");
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(
            ("echo", $$"""{ "upstream": "{{function.Url}}" }"""), ("resize", $$"""{ "upstream": "{{function.Url}}", "max_attempts": 2 }""")),
            new Dictionary<string, string> { ["basic_auth"] = "true", ["secret_mount_path"] = await ConsoleSpecs.SecretsAsync() });
        void Go(string hash) => browser.Open(new UriBuilder(gateway.Url) { UserName = "admin", Password = "pa55", Path = "/ui/", Fragment = hash }.Uri);
        foreach (var body in new[] { "ada", "fail", "grace", "alan" })
        {
            using var _ = await gateway.PostAsync("/function/echo", body);
        }

        var ids = new List<string>();
        foreach (var body in new[] { "one", "fail", "two" })
        {
            ids.Add(TestGateway.Remember(await gateway.PostAsync("/async-function/resize", body)));
        }

        var dead = await gateway.WaitForStateAsync(ids[1], TimeSpan.FromSeconds(20), "dead");
        var shots = Environment.GetEnvironmentVariable("FWATCHDOG_CONSOLE_SCREENSHOTS");
        void Shot(string name)
        {
            if (!string.IsNullOrEmpty(shots))
            {
                browser.Driver.GetScreenshot().SaveAsFile(Path.Combine(shots, name + ".png"));
            }
        }

        Go("/functions");
        var echo = browser.WaitFor(By.CssSelector("tr[data-function='echo']"));
        echo.Text.Should().Contain("ready").And.Contain("4").And.Contain("25.0 %", "one of four calls ended 503");
        Shot("functions");

        Go("/invoke?function=echo");
        browser.WaitFor(By.Id("invoke-headers")).SendKeys("Content-Type: application/json");
        Invoke("sync", "console");
        browser.WaitForText(By.Id("invoke-body-out"), "hello console");
        Shot("invoke");

        Go("/calls");
        browser.WaitFor(By.CssSelector($"tr[data-call='{ids[1]}']"), row => row.Text.Contains("dead", StringComparison.Ordinal));
        browser.WaitFor(By.CssSelector($"tr[data-call='{ids[2]}']"), row => row.Text.Contains("succeeded", StringComparison.Ordinal));
        Shot("calls");

        Go("/call/" + ids[1]);
        browser.WaitForText(By.Id("call-state"), "dead");
        browser.WaitForText(By.Id("call-error"), "gave up after 2 attempts");
        browser.WaitForText(By.Id("call-trace"), dead.GetProperty("traceId").GetString()!);
        browser.Driver.FindElements(By.CssSelector("#call-history tbody tr")).Select(row => row.Text).Should()
            .SatisfyRespectively(first => first.Should().StartWith("1 ").And.Contain("503"), second => second.Should().StartWith("2 ").And.Contain("503"));
        Shot("call");

        Go("/logs/echo");
        browser.WaitFor(By.Id("page"), page => page.Text.Contains("Log lines of echo", StringComparison.Ordinal) && !page.Text.Contains("Loading", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_local_functions_recent_log_lines_show_on_its_page_as_text()
    {
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("loud", """{ "fprocess": "sh -c 'cat >&2'" }""")));
        (await gateway.PostAsync("/function/loud", "log-marker " + Hostile)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Processes.EventuallyAsync(() => gateway.App.LocalFunctions["loud"].Log.Read(null, 0, false).Kept.Any(l => l.Text.Contains("log-marker", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)))
            .Should().BeTrue("the function's stderr reaches its log");

        Open(gateway, "#/logs/loud");
        browser.WaitForText(By.Id("logs"), "log-marker " + Hostile);
        browser.Driver.FindElements(By.CssSelector("main img, main script")).Should().BeEmpty("a log line is text");
        var shots = Environment.GetEnvironmentVariable("FWATCHDOG_CONSOLE_SCREENSHOTS");
        if (!string.IsNullOrEmpty(shots))
        {
            browser.Driver.GetScreenshot().SaveAsFile(Path.Combine(shots, "logs.png"));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_functions_markup_in_its_answer_result_or_error_is_shown_as_text_and_never_runs()
    {
        await using var function = await TestUpstream.StartAsync((context, request) =>
        {
            context.Response.ContentType = "text/html";
            if (request.Text == "fail")
            {
                context.Response.StatusCode = 503;
                context.Response.Headers["X-Watchdog-Reason"] = Hostile;
            }

            return context.Response.WriteAsync(Hostile);
        });
        await using var gateway = await TestGateway.StartAsync(Stack(function, """, "max_attempts": 1"""));
        Open(gateway, "#/invoke?function=echo");
        Invoke("sync", "ok");
        browser.WaitForText(By.Id("invoke-body-out"), Hostile);

        var result = InvokeAsync("ok");
        var failed = InvokeAsync("fail");
        await gateway.WaitForStateAsync(result, TimeSpan.FromSeconds(20), "succeeded");
        await gateway.WaitForStateAsync(failed, TimeSpan.FromSeconds(20), "dead");
        browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/call/" + result));
        browser.WaitForText(By.Id("call-result"), Hostile);
        browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/call/" + failed));
        browser.WaitForText(By.Id("call-error"), Hostile);
        browser.Driver.Navigate().GoToUrl(new Uri(gateway.Url, "/ui/#/calls"));
        browser.WaitFor(By.CssSelector($"tr[data-call='{failed}']"), row => row.Text.Contains(Hostile, StringComparison.Ordinal));

        browser.Driver.FindElements(By.CssSelector("main img, main script")).Should().BeEmpty("the markup stayed text");
        browser.Driver.Title.Should().Be("fwatchdog console", "no script of the function's ran");
    }
}
