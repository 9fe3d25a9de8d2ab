namespace Fwatchdog.Tests.Infrastructure;

/// <summary>A read-only stream of a known byte pattern of any length, generated on the fly.</summary>
internal sealed class PatternStream(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    private const int Period = 251;

    // The pattern repeats every 251 bytes; a long copy of it lets reads and checks use spans.
    private static readonly byte[] Repeated = Enumerable.Range(0, Period * 1100).Select(i => (byte)(i * 31 % Period)).ToArray();

    /// <summary>Checks bytes against the pattern as they arrive.</summary>
    public sealed class Verifier : IDisposable
    {
        public long Length { get; private set; }

        public Task WriteAsync(ReadOnlyMemory<byte> data)
        {
            if (!data.Span.SequenceEqual(Repeated.AsSpan((int)(Length % Period), data.Length)))
            {
                throw new InvalidDataException($"bytes after {Length} differ from the pattern");
            }

            Length += data.Length;
            return Task.CompletedTask;
        }

        public void Dispose()
        {
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(Math.Min(count, 256 * 1024), length - _position);
        Repeated.AsSpan((int)(_position % Period), n).CopyTo(buffer.AsSpan(offset));
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
