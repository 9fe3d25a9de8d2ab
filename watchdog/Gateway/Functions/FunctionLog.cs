using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// The recent output of one local function (the lines its watchdog writes: start-up, access lines,
/// the function's stderr), kept for <c>GET /system/logs</c>: at most <see cref="MaxLines"/> lines
/// and <see cref="MaxBytes"/> bytes of text, the oldest dropped first, a line cut at
/// <see cref="MaxLineChars"/>. Callers that follow it get each new line; a follower that falls
/// <see cref="FollowerBacklog"/> lines or <see cref="MaxBytes"/> bytes behind loses the oldest of
/// them, so a slow reader never holds the function's output or grows the gateway's memory.
/// </summary>
internal sealed class FunctionLog(TimeProvider time)
{
    public const int MaxLines = 1000;
    public const int MaxBytes = 256 * 1024;
    public const int MaxLineChars = 8 * 1024;
    public const int FollowerBacklog = 1000;

    private readonly Lock _gate = new();
    private readonly Queue<LogLine> _lines = new();
    private readonly List<Follower> _followers = [];
    private long _bytes;

    /// <summary>Callers following this log now.</summary>
    public int Followers
    {
        get
        {
            lock (_gate)
            {
                return _followers.Count;
            }
        }
    }

    public void Add(string instance, string text)
    {
        var line = new LogLine(time.GetUtcNow(), instance, text.Length > MaxLineChars ? text[..MaxLineChars] : text);
        lock (_gate)
        {
            _lines.Enqueue(line);
            _bytes += line.Bytes;
            while (_lines.Count > MaxLines || _bytes > MaxBytes)
            {
                _bytes -= _lines.Dequeue().Bytes;
            }

            foreach (var follower in _followers)
            {
                follower.Offer(line);
            }
        }
    }

    /// <summary>
    /// The kept lines at or after <paramref name="since"/> (of one run of the function when
    /// <paramref name="instance"/> names it), the last <paramref name="tail"/> of them
    /// (all when <paramref name="tail"/> is 0 or less), and, when <paramref name="follow"/>, a follower
    /// that gets every line added after them: taken under one lock, so no line is missed or repeated.
    /// </summary>
    public (IReadOnlyList<LogLine> Kept, Follower? Follower) Read(DateTimeOffset? since, int tail, bool follow, string? instance = null)
    {
        lock (_gate)
        {
            var kept = _lines.Where(l => (since is null || l.Timestamp >= since) && (instance is null || l.Instance == instance)).ToList();
            if (tail > 0 && kept.Count > tail)
            {
                kept.RemoveRange(0, kept.Count - tail);
            }

            Follower? follower = null;
            if (follow)
            {
                follower = new Follower(this);
                _followers.Add(follower);
            }

            return (kept, follower);
        }
    }

    private void Remove(Follower follower)
    {
        lock (_gate)
        {
            _followers.Remove(follower);
        }
    }

    /// <summary>One line: when the gateway read it, which run of the function wrote it (its watchdog's pid), the text.</summary>
    internal sealed record LogLine(DateTimeOffset Timestamp, string Instance, string Text)
    {
        public int Bytes { get; } = Encoding.UTF8.GetByteCount(Text);
    }

    /// <summary>A caller following the log; disposing it (when the caller goes) stops the lines.</summary>
    internal sealed class Follower(FunctionLog log) : IDisposable
    {
        private readonly Channel<LogLine> _lines = System.Threading.Channels.Channel.CreateUnbounded<LogLine>();
        private int _count;
        private long _bytes;

        /// <summary>Lines given to this follower and not read yet.</summary>
        public int Count => Volatile.Read(ref _count);

        /// <summary>Called under the log's lock: the line goes in, the oldest go out while the backlog is over its bounds.</summary>
        internal void Offer(LogLine line)
        {
            while (Count > 0 && (Count >= FollowerBacklog || Interlocked.Read(ref _bytes) + line.Bytes > MaxBytes) && TryRead(out _))
            {
            }

            Interlocked.Increment(ref _count);
            Interlocked.Add(ref _bytes, line.Bytes);
            _lines.Writer.TryWrite(line);
        }

        public bool TryRead([MaybeNullWhen(false)] out LogLine line)
        {
            if (!_lines.Reader.TryRead(out line))
            {
                return false;
            }

            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _bytes, -line.Bytes);
            return true;
        }

        public async IAsyncEnumerable<LogLine> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            while (await _lines.Reader.WaitToReadAsync(cancellationToken))
            {
                while (TryRead(out var line))
                {
                    yield return line;
                }
            }
        }

        public void Dispose() => log.Remove(this);
    }
}
