using Fwatchdog.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Fwatchdog.Gateway;

/// <summary>
/// The gateway's <c>read_timeout</c> and <c>write_timeout</c> (the OpenFaaS gateway's names; Go's
/// server ReadTimeout and WriteTimeout): the body must have arrived read_timeout after the
/// headers, and the response must be written write_timeout after them; otherwise the connection
/// is closed. Kestrel's minimum data rates stay off (a function reading its input slowly would
/// trip them through no fault of the caller), so these deadlines are what bound a slow or stalled
/// caller (300 one-byte-every-5-s uploads otherwise stayed open for good).
/// </summary>
internal sealed partial class RequestDeadlines(TimeSpan readTimeout, TimeSpan writeTimeout, ILogger logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        BodyWatch? body = null;
        if (readTimeout > TimeSpan.Zero && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            body = new BodyWatch(context.Request.Body, context.Request.ContentLength);
            context.Request.Body = body;
        }

        using var read = body is null ? null : new CancellationTokenSource(readTimeout);
        using var onRead = read?.Token.Register(() =>
        {
            if (body is { Ended: false })
            {
                Cut(context, GatewaySettings.ReadTimeout.Name, readTimeout, "the request body had not arrived");
            }
        });
        using var write = writeTimeout > TimeSpan.Zero ? new CancellationTokenSource(writeTimeout) : null;
        using var onWrite = write?.Token.Register(() => Cut(context, GatewaySettings.WriteTimeout.Name, writeTimeout, "the response was not written"));
        await next(context);
    }

    private void Cut(HttpContext context, string setting, TimeSpan limit, string what)
    {
        LogCut(logger, context.Request.Method, context.Request.Path.Value ?? "", what, setting, DurationParser.Format(limit));
        context.Abort();
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "{Method} {Path}: {What} after {Setting}={Limit}; connection closed")]
    private static partial void LogCut(ILogger logger, string method, string path, string what, string setting, string limit);

    /// <summary>The request body, noting when it has been read to its end (all of its Content-Length, or end of stream).</summary>
    private sealed class BodyWatch(Stream inner, long? length) : Stream
    {
        private long _read;
        private volatile bool _ended;

        public bool Ended => _ended;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            return Note(await inner.ReadAsync(buffer, cancellationToken), buffer.Length);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            return Note(inner.Read(buffer, offset, count), count);
        }

        private int Note(int read, int asked)
        {
            _read += read;
            _ended |= (read == 0 && asked > 0) || _read >= length;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
