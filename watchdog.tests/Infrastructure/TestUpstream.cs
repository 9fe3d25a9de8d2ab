using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>What a <see cref="TestUpstream"/> received.</summary>
internal sealed record ReceivedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 standing in for a function's watchdog or a callback
/// receiver: it records every request (raw target, headers, body) and answers with
/// <c>respond</c> (default 200 with the body echoed).
/// </summary>
internal sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedRequest> _received = Channel.CreateUnbounded<ReceivedRequest>();

    private TestUpstream(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = new("http://127.0.0.1:0");

    public ConcurrentQueue<ReceivedRequest> All { get; } = new();

    public static async Task<TestUpstream> StartAsync(Func<HttpContext, ReceivedRequest, Task>? respond = null, TimeSpan? keepAlive = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0);
            k.Limits.KeepAliveTimeout = keepAlive ?? k.Limits.KeepAliveTimeout;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var upstream = new TestUpstream(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            var request = new ReceivedRequest(context.Request.Method, raw, headers, body.ToArray(), DateTimeOffset.UtcNow);
            upstream.All.Enqueue(request);
            upstream._received.Writer.TryWrite(request);
            if (respond is not null)
            {
                await respond(context, request);
            }
            else
            {
                context.Response.ContentType = context.Request.ContentType ?? "application/octet-stream";
                await context.Response.Body.WriteAsync(request.Body);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.First() ?? "";
        upstream.Url = new Uri(address);
        return upstream;
    }

    /// <summary>The next request received, or a timeout failure.</summary>
    public async Task<ReceivedRequest> NextAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(20));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Waits until at least <paramref name="count"/> requests arrived (or the time is up) and returns them all.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(int count, TimeSpan within)
    {
        await Processes.EventuallyAsync(() => All.Count >= count, within);
        return All.ToList();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
