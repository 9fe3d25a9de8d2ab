using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The forwarder against an upstream that breaks HTTP/1.1 on purpose:
/// for each misbehaviour, what the caller gets, that the connection is not used again, and
/// that the next callers get their own answers. Every case first warms the pool, so the
/// misbehaving answer arrives on a reused connection.
/// </summary>
public sealed partial class HostileUpstreamSpecs : FastTier
{
    private const string Forged = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";

    /// <summary>What the misbehaving call should give its caller.</summary>
    internal sealed record Outcome(int Status, string? Reason, string? Body)
    {
        public static Outcome Refused => new(502, "bad_upstream_response", null);

        public static Outcome Unreachable => new(502, "function_unreachable", null);

        /// <summary>The response had started: the caller sees it broken off, never a clean short one.</summary>
        public static Outcome Aborted => new(0, null, null);

        public static Outcome Answer(int status, string body) => new(status, null, body);
    }

    internal sealed record Misbehaviour(Func<ScriptedExchange, Task> Act, Outcome Expected, bool Discarded = true, int RequestBody = 0);

    private static Func<ScriptedExchange, Task> Send(string bytes, bool close = false) => async exchange =>
    {
        await exchange.WriteAsync(bytes);
        if (close)
        {
            exchange.Close();
        }
    };

    private static Func<ScriptedExchange, Task> AnswerThen(string later) => async exchange =>
    {
        await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
        await Task.Delay(20);
        await exchange.WriteAsync(later);
    };

    private static string Ok(string headers, string body = "ok") => $"HTTP/1.1 200 OK\r\n{headers}\r\n\r\n{body}";

    internal static readonly Dictionary<string, Misbehaviour> Table = new()
    {
        // Bytes nobody asked for poison the pooled connection.
        ["unsolicited_response_after_a_framed_one"] = new(AnswerThen(Forged), Outcome.Answer(200, "own:m0")),
        ["unsolicited_response_after_204"] = new(async e =>
        {
            await e.WriteAsync("HTTP/1.1 204 No Content\r\n\r\n");
            await Task.Delay(20);
            await e.WriteAsync(Forged);
        }, Outcome.Answer(204, "")),
        ["response_glued_to_a_204"] = new(Send("HTTP/1.1 204 No Content\r\n\r\n" + Forged), Outcome.Answer(204, "")),
        ["body_longer_than_content_length"] = new(Send(Ok("Content-Length: 2", "ok" + Forged)), Outcome.Answer(200, "ok")),
        ["connection_close_but_left_open"] = new(Send(Ok("Content-Length: 2\r\nConnection: close")), Outcome.Answer(200, "ok")),
        ["http10_keep_alive"] = new(Send("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"), Outcome.Answer(200, "ok")),
        ["http10_until_close"] = new(Send("HTTP/1.0 200 OK\r\n\r\nuntil close", close: true), Outcome.Answer(200, "until close")),
        ["interim_100_then_final"] = new(Send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + Ok("Content-Length: 2")), Outcome.Answer(200, "ok"), Discarded: false),
        ["response_before_the_request_body_is_read"] = new(async e =>
        {
            await e.WriteAsync(Ok("Content-Length: 5", "early"));
            await e.ReadBodyAsync();
        }, Outcome.Answer(200, "early"), Discarded: false, RequestBody: 256 * 1024),

        // Malformed heads are refused, not guessed at.
        ["control_character_in_a_header_value"] = new(Send(Ok("X-Bad: a\u0001b\r\nContent-Length: 2")), Outcome.Refused),
        ["bare_lf_line_ends"] = new(Send("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"), Outcome.Refused),
        ["bare_cr_in_the_head"] = new(Send("HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["space_in_a_header_name"] = new(Send(Ok("Bad Name: x\r\nContent-Length: 2")), Outcome.Refused),
        ["space_before_the_colon"] = new(Send(Ok("Content-Length : 2")), Outcome.Refused),
        ["obs_fold"] = new(Send(Ok("X-A: a\r\n b\r\nContent-Length: 2")), Outcome.Refused),
        ["two_different_content_lengths"] = new(Send(Ok("Content-Length: 2\r\nContent-Length: 3")), Outcome.Refused),
        ["content_length_list_that_disagrees"] = new(Send(Ok("Content-Length: 2, 3")), Outcome.Refused),
        ["signed_content_length"] = new(Send(Ok("Content-Length: +2")), Outcome.Refused),
        ["transfer_encoding_chunked_gzip"] = new(Send(Ok("Transfer-Encoding: chunked, gzip", "2\r\nok\r\n0\r\n\r\n")), Outcome.Refused),
        ["transfer_encoding_twice"] = new(Send(Ok("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "2\r\nok\r\n0\r\n\r\n")), Outcome.Refused),
        ["content_length_and_transfer_encoding"] = new(Send(Ok("Content-Length: 2\r\nTransfer-Encoding: chunked", "2\r\nok\r\n0\r\n\r\n")), Outcome.Refused),
        ["switching_protocols_101"] = new(Send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), Outcome.Refused),
        ["too_many_interim_responses"] = new(Send(string.Concat(Enumerable.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 20)) + Ok("Content-Length: 2")), Outcome.Refused),
        ["status_600"] = new(Send("HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["not_an_http_status_line"] = new(Send("ICY 200 OK\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["http2_status_line"] = new(Send("HTTP/2 200\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["control_character_in_the_reason"] = new(Send("HTTP/1.1 200 O\u0000K\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["huge_header"] = new(Send(Ok("X-Huge: " + new string('a', 70_000) + "\r\nContent-Length: 2")), Outcome.Refused),
        ["close_in_the_middle_of_the_head"] = new(Send("HTTP/1.1 200 OK\r\nContent-Le", close: true), Outcome.Refused),
        ["bad_chunk_size"] = new(Send(Ok("Transfer-Encoding: chunked", "zz\r\nok\r\n0\r\n\r\n")), Outcome.Refused),
        ["chunk_size_overflow"] = new(Send(Ok("Transfer-Encoding: chunked", "1FFFFFFFFFFFFFFFF\r\nok\r\n0\r\n\r\n")), Outcome.Refused),
        ["content_with_205"] = new(Send("HTTP/1.1 205 Reset Content\r\nContent-Length: 2\r\n\r\nok"), Outcome.Refused),
        ["transfer_encoding_with_204"] = new(Send("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), Outcome.Refused),
        ["closed_without_answering"] = new(e =>
        {
            e.Close();
            return Task.CompletedTask;
        }, Outcome.Unreachable),

        // Broken framing after the head: the caller's response had started, so it is broken off.
        ["content_length_promising_more_than_sent"] = new(Send(Ok("Content-Length: 10", "abc"), close: true), Outcome.Aborted),
        ["truncated_chunk"] = new(Send(Ok("Transfer-Encoding: chunked", "5\r\nab"), close: true), Outcome.Aborted),
        ["chunk_longer_than_its_size"] = new(Send(Ok("Transfer-Encoding: chunked", "2\r\nokXX\r\n0\r\n\r\n")), Outcome.Aborted),
        ["malformed_trailer"] = new(Send(Ok("Transfer-Encoding: chunked", "2\r\nok\r\n0\r\nBad Trailer: x\r\n\r\n")), Outcome.Aborted),
    };

    public static TheoryData<string> Cases => [.. Table.Keys];

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Cases))]
    public async Task A_misbehaving_upstream_gets_its_caller_a_clear_answer_and_the_next_callers_their_own(string name)
    {
        var misbehaviour = Table[name];
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            if (exchange.Request.Header("X-Evil") != name)
            {
                await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
                return;
            }

            try
            {
                await misbehaviour.Act(exchange);
            }
            finally
            {
                done.TrySetResult();
            }
        });
        await using var gateway = await StartGatewayAsync(upstream);

        (await CallAsync(gateway, "warm")).Should().Be((200, null, "own:warm"));
        var outcome = await CallAsync(gateway, "m0", name, misbehaviour.RequestBody);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var expected = misbehaviour.Expected;
        if (expected.Status == 0)
        {
            outcome.Status.Should().Be(0, $"{name}: a response that breaks off after its head must reach the caller broken, not clean");
        }
        else
        {
            outcome.Should().Be((expected.Status, expected.Reason, expected.Body ?? outcome.Body), name);
        }

        var evil = upstream.Requests.Single(r => r.Header("X-Evil") == name);
        foreach (var marker in new[] { "m1", "m2", "m3" })
        {
            (await CallAsync(gateway, marker)).Should().Be((200, null, "own:" + marker), $"after {name}, each caller gets its own answer");
        }

        if (misbehaviour.Discarded)
        {
            upstream.Requests.Where(r => r.Header("X-Marker") is "m1" or "m2" or "m3").Should()
                .OnlyContain(r => r.Connection != evil.Connection, $"after {name} the connection must not be used again");
        }

        upstream.Requests.Count(r => r.Header("X-Evil") == name).Should().Be(1, "a call whose request reached the upstream is never sent twice");
        await MetricsBalanceAsync(gateway);
    }

    internal static async Task<TestGateway> StartGatewayAsync(ScriptedUpstream upstream) =>
        await TestGateway.StartAsync(TestGateway.Stack(("evil", upstream.Url)), new Dictionary<string, string>
        {
            ["metrics_port"] = Ports.Unshared().ToString(CultureInfo.InvariantCulture),
        });

    /// <summary>One sync call; Status 0 when the response broke off.</summary>
    internal static async Task<(int Status, string? Reason, string Body)> CallAsync(TestGateway gateway, string marker, string? evil = null, int body = 0)
    {
        using var request = new HttpRequestMessage(body > 0 ? HttpMethod.Post : HttpMethod.Get, "/function/evil");
        request.Headers.TryAddWithoutValidation("X-Marker", marker);
        if (evil is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Evil", evil);
        }

        if (body > 0)
        {
            request.Content = new ByteArrayContent(new byte[body]);
        }

        try
        {
            using var response = await gateway.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var reason = response.Headers.TryGetValues("X-Gateway-Reason", out var values) ? values.Single() : null;
            ((int)response.StatusCode).Should().NotBe(500, "an unhandled exception is never an answer");
            return ((int)response.StatusCode, reason, text);
        }
        catch (HttpRequestException)
        {
            return (0, null, "");
        }
    }

    /// <summary>Every call started is finished in the metrics.</summary>
    internal static async Task MetricsBalanceAsync(TestGateway gateway)
    {
        var metricsUrl = gateway.App.MetricsUrl ?? throw new InvalidOperationException("metrics_port is set");
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        double started, finished;
        do
        {
            var text = await gateway.Client.GetStringAsync(new Uri(metricsUrl, "/metrics"));
            started = Sum(text, "gateway_function_invocation_started");
            finished = Sum(text, "gateway_function_invocation_total");
            if (started > 0 && started == finished)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < until);
        finished.Should().Be(started, "every call started is finished in the metrics");
    }

    private static double Sum(string metrics, string name) => MetricLine().Matches(metrics)
        .Where(m => m.Groups[1].Value == name && m.Groups[2].Value.Contains("function_name=\"evil\"", StringComparison.Ordinal))
        .Sum(m => double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(\w+)\{([^}]*)\} ([\d.e+]+)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}
