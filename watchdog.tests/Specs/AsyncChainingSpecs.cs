namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Chaining functions through callbacks: an X-Callback-Url pointing at the
/// same gateway's /async-function/ starts a second call with its own id, linked to the first.
/// </summary>
public sealed class AsyncChainingSpecs : FastTier
{
    [Fact(Timeout = 60_000)]
    public async Task A_callback_into_async_function_starts_a_second_call_with_a_fresh_id_linked_to_the_first()
    {
        await using var first = await TestUpstream.StartAsync();
        await using var second = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("first", first.Url), ("second", second.Url)),
            new Dictionary<string, string> { ["callback_allowed_hosts"] = "127.0.0.1" });

        using var accepted = await gateway.PostAsync("/async-function/first", "hello", ("X-Callback-Url", gateway.Url + "async-function/second"));
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var parent = accepted.Headers.GetValues("X-Call-Id").Single();

        var callback = await gateway.WaitForCallbackAsync(parent, TimeSpan.FromSeconds(30), "delivered", "failed");
        callback.GetProperty("state").GetString().Should().Be("delivered", callback.ToString());
        callback.GetProperty("statusCode").GetInt32().Should().Be(202, "the gateway queued the second call");
        var reached = await second.NextAsync(TimeSpan.FromSeconds(30));
        reached.Text.Should().Be("hello", "the second function gets the first one's result");
        reached.Header("X-Parent-Call-Id").Should().Be(parent);
        var child = reached.Header("X-Call-Id");
        child.Should().NotBe(parent).And.NotBeEmpty();

        // The gateway itself got the second call's 202: the first call's token opens it (docs/security.md).
        var parentToken = accepted.Headers.Location!.OriginalString.Split('~')[1];
        (await gateway.Client.GetAsync($"/async-calls/{child}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        TestGateway.Learn(child, $"/async-calls/{child}~{parentToken}");
        var status = await gateway.WaitForStateAsync(child, TimeSpan.FromSeconds(30), "succeeded", "failed", "dead");
        status.GetProperty("state").GetString().Should().Be("succeeded");
        status.GetProperty("parentCallId").GetString().Should().Be(parent, "the status of the second call links to the first");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_callback_delivered_twice_starts_the_second_call_once()
    {
        await using var second = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("second", second.Url)));
        (string, string)[] callback = [("X-Call-Id", "parent-1"), ("X-Parent-Call-Id", "parent-1"), ("Idempotency-Key", "parent-1.callback")];

        using var once = await gateway.PostAsync("/async-function/second", "result", callback);
        using var twice = await gateway.PostAsync("/async-function/second", "result", callback);

        once.StatusCode.Should().Be(HttpStatusCode.Accepted);
        twice.StatusCode.Should().Be(HttpStatusCode.Accepted);
        twice.Headers.GetValues("X-Call-Id").Should().Equal(once.Headers.GetValues("X-Call-Id"));
        once.Headers.GetValues("X-Call-Id").Single().Should().NotBe("parent-1");
    }
}
