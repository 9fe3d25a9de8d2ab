using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Fwatchdog.Hosting;

/// <summary>
/// Counters, gauges and histograms with labels, written in the Prometheus text format (0.0.4).
/// The watchdog and the gateway need only these three kinds with a few labels each; this replaces
/// prometheus-net, which with its name-checking regular expressions, meter and event-counter
/// adapters made up a sixth of the watchdog-only binary, and a NativeAOT binary's size is paid
/// in start-up time and memory by every function container.
/// </summary>
internal sealed class MetricsRegistry
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Prometheus's (and the OpenFaaS watchdogs') default histogram buckets, in seconds.</summary>
    public static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly List<MetricFamily> _families = [];

    public Counter Counter(string name, string help, params string[] labels) => Add(new Counter(name, help, labels));

    public Gauge Gauge(string name, string help, params string[] labels) => Add(new Gauge(name, help, labels));

    public Histogram Histogram(string name, string help, double[] buckets, params string[] labels) => Add(new Histogram(name, help, labels, buckets));

    private T Add<T>(T family)
        where T : MetricFamily
    {
        lock (_families)
        {
            _families.Add(family);
        }

        return family;
    }

    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(4096);
        lock (_families)
        {
            foreach (var family in _families)
            {
                family.Write(text);
            }
        }

        await output.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
    }
}

/// <summary>One metric name with its series, one per set of label values (none for a metric without labels).</summary>
internal abstract class MetricFamily(string name, string help, string type, string[] labels)
{
    protected string Name { get; } = name;

    protected string[] Labels { get; } = labels;

    public void Write(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
        WriteSeries(text);
    }

    protected abstract void WriteSeries(StringBuilder text);

    /// <summary>{a="x",b="y"} plus an optional last label (a histogram's le); nothing when there are no labels.</summary>
    protected void AppendLabels(StringBuilder text, string[] values, string? extraName = null, string? extraValue = null)
    {
        if (values.Length == 0 && extraName is null)
        {
            return;
        }

        text.Append('{');
        for (var i = 0; i < values.Length; i++)
        {
            AppendLabel(text, Labels[i], values[i]).Append(',');
        }

        if (extraName is not null)
        {
            AppendLabel(text, extraName, extraValue!).Append(',');
        }

        text.Length--;
        text.Append('}');
    }

    private static StringBuilder AppendLabel(StringBuilder text, string name, string value) => text.Append(name).Append("=\"")
        .Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
        .Append('"');

    protected static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A family whose series are made on first use of their label values and live as long as the process.</summary>
internal abstract class MetricFamily<TSeries>(string name, string help, string type, string[] labels) : MetricFamily(name, help, type, labels)
    where TSeries : class
{
    private readonly ConcurrentDictionary<string, (string[] Values, TSeries Series)> _series = new(StringComparer.Ordinal);

    /// <summary>The series for these label values (as many as the family has labels); callers on a hot path keep it.</summary>
    public TSeries WithLabels(params string[] values)
    {
        if (values.Length != Labels.Length)
        {
            throw new ArgumentException($"{Name} has {Labels.Length} labels, got {values.Length} values", nameof(values));
        }

        // \u0001 cannot be typed into a label value by accident; it only keys the dictionary.
        return _series.GetOrAdd(string.Join('\u0001', values), static (_, arg) => (arg.values, arg.family.NewSeries()), (values, family: this)).Series;
    }

    protected abstract TSeries NewSeries();

    protected IEnumerable<(string[] Values, TSeries Series)> AllSeries => Labels.Length == 0 ? [([], WithLabels())] : _series.Values;
}

internal sealed class Counter(string name, string help, string[] labels) : MetricFamily<Counter.Series>(name, help, "counter", labels)
{
    public void Inc() => WithLabels().Inc();

    protected override Series NewSeries() => new();

    protected override void WriteSeries(StringBuilder text)
    {
        foreach (var (values, series) in AllSeries)
        {
            text.Append(Name);
            AppendLabels(text, values);
            text.Append(' ').Append(series.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    internal sealed class Series
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Inc() => Interlocked.Increment(ref _value);
    }
}

internal sealed class Gauge(string name, string help, string[] labels) : MetricFamily<Gauge.Series>(name, help, "gauge", labels)
{
    public void Inc() => WithLabels().Add(1);

    public void Dec() => WithLabels().Add(-1);

    protected override Series NewSeries() => new();

    protected override void WriteSeries(StringBuilder text)
    {
        foreach (var (values, series) in AllSeries)
        {
            text.Append(Name);
            AppendLabels(text, values);
            text.Append(' ').Append(Number(series.Value)).Append('\n');
        }
    }

    internal sealed class Series
    {
        private long _bits;

        public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));

        public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));

        public void Add(double delta)
        {
            long seen, next;
            do
            {
                seen = Interlocked.Read(ref _bits);
                next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + delta);
            }
            while (Interlocked.CompareExchange(ref _bits, next, seen) != seen);
        }
    }
}

internal sealed class Histogram(string name, string help, string[] labels, double[] buckets) : MetricFamily<Histogram.Series>(name, help, "histogram", labels)
{
    protected override Series NewSeries() => new(buckets);

    protected override void WriteSeries(StringBuilder text)
    {
        foreach (var (values, series) in AllSeries)
        {
            // A scrape racing an observation may see the count one ahead of a bucket; Prometheus tolerates that.
            long cumulative = 0;
            for (var i = 0; i <= buckets.Length; i++)
            {
                cumulative += series.Bucket(i);
                text.Append(Name).Append("_bucket");
                AppendLabels(text, values, "le", i < buckets.Length ? Number(buckets[i]) : "+Inf");
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(Name).Append("_sum");
            AppendLabels(text, values);
            text.Append(' ').Append(Number(series.Sum)).Append('\n');
            text.Append(Name).Append("_count");
            AppendLabels(text, values);
            text.Append(' ').Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    internal sealed class Series(double[] upperBounds)
    {
        /// <summary>Observations per bucket (not cumulative); the last one is above every bound.</summary>
        private readonly long[] _buckets = new long[upperBounds.Length + 1];
        private readonly Gauge.Series _sum = new();
        private long _count;

        public double Sum => _sum.Value;

        public long Count => Interlocked.Read(ref _count);

        public long Bucket(int index) => Interlocked.Read(ref _buckets[index]);

        public void Observe(double value)
        {
            var index = 0;
            while (index < upperBounds.Length && value > upperBounds[index])
            {
                index++;
            }

            Interlocked.Increment(ref _buckets[index]);
            _sum.Add(value);
            Interlocked.Increment(ref _count);
        }
    }
}
