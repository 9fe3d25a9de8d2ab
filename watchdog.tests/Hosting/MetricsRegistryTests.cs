using Fwatchdog.Hosting;

namespace Fwatchdog.Tests.Hosting;

/// <summary>The Prometheus text format (0.0.4) as scrapers parse it: HELP, TYPE, escaped labels, cumulative buckets.</summary>
public sealed class MetricsRegistryTests : FastTier
{
    [Fact]
    public async Task A_counter_without_labels_is_written_at_zero_before_any_increment()
    {
        var registry = new MetricsRegistry();
        registry.Counter("calls_total", "Calls.");

        (await TextAsync(registry)).Should().Be("# HELP calls_total Calls.\n# TYPE calls_total counter\ncalls_total 0\n");
    }

    [Fact]
    public async Task Labelled_series_appear_once_used_with_their_label_values_escaped()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("jobs_total", "Jobs by function\nand state.", "function_name", "state");
        counter.WithLabels("a\"b\\c\nd", "done").Inc();
        counter.WithLabels("a\"b\\c\nd", "done").Inc();
        counter.WithLabels("plain", "failed").Inc();

        var text = await TextAsync(registry);

        text.Should().StartWith("# HELP jobs_total Jobs by function\\nand state.\n# TYPE jobs_total counter\n")
            .And.Contain("jobs_total{function_name=\"a\\\"b\\\\c\\nd\",state=\"done\"} 2\n")
            .And.Contain("jobs_total{function_name=\"plain\",state=\"failed\"} 1\n");
    }

    [Fact]
    public async Task A_gauge_goes_up_and_down_and_can_be_set()
    {
        var registry = new MetricsRegistry();
        var inflight = registry.Gauge("in_flight", "Now.");
        var depth = registry.Gauge("depth", "By state.", "state");
        inflight.Inc();
        inflight.Inc();
        inflight.Dec();
        depth.WithLabels("queued").Set(42);

        var text = await TextAsync(registry);

        text.Should().Contain("in_flight 1\n").And.Contain("# TYPE depth gauge\ndepth{state=\"queued\"} 42\n");
    }

    [Fact]
    public async Task Histogram_buckets_are_cumulative_with_an_infinite_last_bucket_a_sum_and_a_count()
    {
        var registry = new MetricsRegistry();
        var seconds = registry.Histogram("seconds", "Time.", [0.1, 1], "code").WithLabels("200");
        seconds.Observe(0.05);
        seconds.Observe(0.1);
        seconds.Observe(0.5);
        seconds.Observe(3);

        (await TextAsync(registry)).Should().Be("# HELP seconds Time.\n# TYPE seconds histogram\n"
            + "seconds_bucket{code=\"200\",le=\"0.1\"} 2\n"
            + "seconds_bucket{code=\"200\",le=\"1\"} 3\n"
            + "seconds_bucket{code=\"200\",le=\"+Inf\"} 4\n"
            + "seconds_sum{code=\"200\"} 3.65\n"
            + "seconds_count{code=\"200\"} 4\n");
    }

    [Fact]
    public async Task Concurrent_increments_are_all_counted()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("hits_total", "Hits.", "code");
        var histogram = registry.Histogram("hit_seconds", "Hit time.", MetricsRegistry.DefaultBuckets);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.WithLabels("200").Inc();
                histogram.WithLabels().Observe(0.5);
            }
        })));

        (await TextAsync(registry)).Should().Contain("hits_total{code=\"200\"} 80000\n")
            .And.Contain("hit_seconds_count 80000\n").And.Contain("hit_seconds_sum 40000\n");
    }

    [Fact]
    public void Label_values_must_match_the_label_names()
    {
        var counter = new MetricsRegistry().Counter("x_total", "X.", "a", "b");

        counter.Invoking(c => c.WithLabels("only one")).Should().Throw<ArgumentException>().WithMessage("x_total has 2 labels, got 1 values*");
    }

    private static async Task<string> TextAsync(MetricsRegistry registry)
    {
        using var output = new MemoryStream();
        await registry.WriteAsync(output, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
