namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The gateway's read_timeout and write_timeout: slow or stalled callers and
/// stalled responses are cut, and callers behaving normally are served meanwhile.
/// </summary>
public sealed class GatewayTimeoutSpecs : FastTier
{
    [Fact(Timeout = 90_000)]
    public async Task Slow_body_connections_are_closed_after_read_timeout_and_do_not_stop_a_normal_caller()
    {
        await using var function = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string>
        {
            ["read_timeout"] = "2s",
        });

        // 30 callers announce 1000 bytes and send one byte a second, to the async and the sync route.
        var slow = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            var client = await RawHttpClient.ConnectAsync(gateway.Url);
            await client.SendHeadAsync("POST", i % 2 == 0 ? "/async-function/echo" : "/function/echo", 1000);
            return client;
        }));
        var cut = slow.Select(client => DripUntilCutAsync(client, TimeSpan.FromSeconds(40))).ToArray();

        using (var normal = await gateway.PostAsync("/function/echo", "hello"))
        {
            normal.StatusCode.Should().Be(HttpStatusCode.OK);
            (await normal.Content.ReadAsStringAsync()).Should().Be("hello");
        }

        using (var queued = await gateway.PostAsync("/async-function/echo", "hello"))
        {
            queued.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var endings = await Task.WhenAll(cut);
        endings.Should().AllSatisfy(e => e.Should().BeOneOf("closed", "408"), "every slow caller is cut; none is still sending after 40 s");
        foreach (var client in slow)
        {
            await client.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_body_that_arrived_in_time_is_not_cut_while_the_function_works_past_read_timeout()
    {
        await using var function = await TestUpstream.StartAsync(async (context, request) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await context.Response.WriteAsync("late:" + request.Text);
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string>
        {
            ["read_timeout"] = "1s",
        });

        using var response = await gateway.PostAsync("/function/echo", "hello");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("late:hello");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_response_still_being_written_at_write_timeout_is_cut()
    {
        await using var function = await TestUpstream.StartAsync(async (context, _) =>
        {
            await context.Response.WriteAsync("first part ");
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            await context.Response.WriteAsync("never");
        });
        await using var gateway = await TestGateway.StartAsync(TestGateway.Stack(("echo", function.Url)), new Dictionary<string, string>
        {
            ["write_timeout"] = "2s",
            ["upstream_timeout"] = "40s",
        });

        await using var client = await RawHttpClient.ConnectAsync(gateway.Url);
        await client.SendHeadAsync("GET", "/function/echo", 0);
        var (status, headers) = await client.ReadHeadAsync();
        status.Should().Be(200);
        var received = new StringBuilder();
        var read = async () => await client.ReadBodyAsync(headers, chunk =>
        {
            received.Append(Encoding.UTF8.GetString(chunk.Span));
            return Task.CompletedTask;
        });

        await read.Should().ThrowAsync<IOException>("the body is cut off, not completed");
        received.ToString().Should().Be("first part ");
    }

    /// <summary>Sends one byte a second until the gateway answers (408) or closes, or <paramref name="within"/> passes ("open").</summary>
    private static async Task<string> DripUntilCutAsync(RawHttpClient client, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        var answer = Task.Run(async () =>
        {
            var buffer = new byte[64];
            try
            {
                var read = await client.Stream.ReadAsync(buffer);
                return read == 0 ? "closed" : Encoding.ASCII.GetString(buffer, 0, read).Split(' ')[1];
            }
            catch (IOException)
            {
                return "closed";
            }
        });
        while (DateTime.UtcNow < until && !answer.IsCompleted)
        {
            try
            {
                await client.Stream.WriteAsync("x"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                break;
            }

            await Task.WhenAny(answer, Task.Delay(TimeSpan.FromSeconds(1)));
        }

        return answer.IsCompleted || await Task.WhenAny(answer, Task.Delay(TimeSpan.FromSeconds(5))) == answer ? await answer : "open";
    }
}
