namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Randomised: valid responses with bytes flipped, cut or duplicated, each followed by an honest
/// call through the same gateway. Invariants: no unhandled exception (no 500 the
/// upstream did not send), no caller gets bytes meant for another, the gateway stays healthy.
/// Seeded and bounded; set FWATCHDOG_FUZZ_SEED to replay a failure (the seed is in every message).
/// </summary>
public sealed class MutatedResponseSpecs : FastTier
{
    private const int Rounds = 120;
    private static readonly byte[] Interesting = "\r\n :0;9\t\0\u007f"u8.ToArray().Append((byte)0xC3).Append((byte)0xFF).ToArray();

    [Fact(Timeout = 180_000)]
    public async Task Mutated_responses_never_leak_into_another_callers_answer_nor_crash_the_gateway()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FWATCHDOG_FUZZ_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        var random = new Random(seed);
        var planned = new Dictionary<string, (byte[] Bytes, bool Close)>();
        for (var i = 0; i < Rounds; i++)
        {
            planned[i.ToString(CultureInfo.InvariantCulture)] = Mutate(Valid(random, i), random);
        }

        await using var upstream = ScriptedUpstream.Start(async exchange =>
        {
            if (!planned.TryGetValue(exchange.Request.Header("X-Evil"), out var plan))
            {
                await exchange.WriteAsync(ScriptedUpstream.OwnAnswer(exchange.Request));
                return;
            }

            await exchange.WriteAsync(plan.Bytes);
            if (plan.Close)
            {
                exchange.Close();
            }
        }, idleClose: TimeSpan.FromSeconds(1));
        await using var gateway = await HostileUpstreamSpecs.StartGatewayAsync(upstream);

        var clock = Stopwatch.StartNew();
        var ran = 0;
        for (; ran < Rounds && clock.Elapsed < TimeSpan.FromSeconds(100); ran++)
        {
            var key = ran.ToString(CultureInfo.InvariantCulture);
            var sent = Encoding.Latin1.GetString(planned[key].Bytes);
            var because = $"seed {seed}, round {ran}, upstream sent {Escape(sent)}";
            var (status, reason, body) = await HostileUpstreamSpecs.CallAsync(gateway, "x" + key, key);
            if (status == 500 && reason is null)
            {
                sent.Should().MatchRegex(@"^HTTP/1\.[01] 500", "a 500 without X-Gateway-Reason must be the upstream's own; " + because);
            }

            body.Should().NotContain("own:", "the mutated call must not get another caller's answer; " + because);
            (await HostileUpstreamSpecs.CallAsync(gateway, "n" + key)).Should().Be((200, null, "own:n" + key), "the next caller gets its own answer; " + because);
        }

        ran.Should().BeGreaterThan(10, $"seed {seed}: the machine is slow, but a dozen rounds fit in 100 s");
        (await gateway.Client.GetAsync("/healthz")).IsSuccessStatusCode.Should().BeTrue($"seed {seed}: the gateway is healthy after");
        await HostileUpstreamSpecs.MetricsBalanceAsync(gateway);
    }

    private static byte[] Valid(Random random, int round)
    {
        var body = $"payload-{round}-" + new string('z', random.Next(0, 40));
        var text = random.Next(5) switch
        {
            0 => $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Pad: abc\r\nContent-Length: {body.Length}\r\n\r\n{body}",
            1 => $"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:X}\r\n{body}\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
            2 => "HTTP/1.1 204 No Content\r\nX-Pad: abc\r\n\r\n",
            3 => $"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}",
            _ => $"HTTP/1.1 404 Not Found\r\nContent-Length: {body.Length}\r\nConnection: keep-alive\r\n\r\n{body}",
        };
        return Encoding.Latin1.GetBytes(text);
    }

    private static (byte[] Bytes, bool Close) Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        var close = false;
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 1; n--)
        {
            switch (random.Next(3))
            {
                case 0:
                    var at = random.Next(bytes.Count);
                    bytes[at] = random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)(bytes[at] ^ (1 << random.Next(8)));
                    break;
                case 1:
                    var keep = random.Next(1, bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    close = true;
                    break;
                default:
                    var from = random.Next(bytes.Count);
                    var length = random.Next(1, Math.Min(40, bytes.Count - from) + 1);
                    bytes.InsertRange(random.Next(bytes.Count + 1), bytes.GetRange(from, length));
                    break;
            }
        }

        return (bytes.ToArray(), close);
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c is < ' ' or > '~' ? $"\\x{(int)c:X2}" : c.ToString()));
}
