using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

/// <summary>The of-watchdog's mode settings: its names, aliases and every bad value reported.</summary>
public sealed class ModeOptionsTests : FastTier
{
    private static readonly Dictionary<string, string> NoFlags = [];

    [Theory]
    [InlineData(null, "streaming")]
    [InlineData("streaming", "streaming")]
    [InlineData("serializing", "serializing")]
    [InlineData("http", "http")]
    public void Mode_accepts_the_of_watchdog_modes(string? mode, string expected)
    {
        var env = Env(("mode", mode), ("http_upstream_url", "http://127.0.0.1:5000"));

        Parse(env).Mode.Should().Be(Enum.Parse<FunctionMode>(expected, ignoreCase: true));
    }

    [Theory]
    [InlineData("upstream_url", "http://127.0.0.1:5000/", "http://127.0.0.1:5000/")]
    [InlineData("http_upstream_url", "http://localhost:3000/api", "http://localhost:3000/api")]
    public void Upstream_url_is_read_under_both_names(string name, string value, string expected) =>
        Parse(Env(("mode", "http"), (name, value))).UpstreamUrl.Should().Be(new Uri(expected));

    [Fact]
    public void Http_upstream_url_wins_over_upstream_url() =>
        Parse(Env(("mode", "http"), ("upstream_url", "http://127.0.0.1:1"), ("http_upstream_url", "http://127.0.0.1:2"))).UpstreamUrl?.Port.Should().Be(2);

    [Theory]
    [InlineData("buffer_http")]
    [InlineData("http_buffer_req_body")]
    public void Buffering_is_read_under_both_names(string name) =>
        Parse(Env(("mode", "http"), ("http_upstream_url", "http://127.0.0.1:5000"), (name, "true"))).BufferRequestBody.Should().BeTrue();

    [Theory]
    [InlineData("log_call_id")]
    [InlineData("log_callid")]
    public void Log_call_id_is_read_under_both_names(string name) =>
        Parse(Env((name, "1"))).LogCallId.Should().BeTrue();

    [Fact]
    public void Static_mode_needs_no_fprocess()
    {
        var options = Parse(new() { ["mode"] = "static", ["static_path"] = AppContext.BaseDirectory });

        options.IsStaticMode.Should().BeTrue();
        options.StaticPath.Should().Be(Path.GetFullPath(AppContext.BaseDirectory));
    }

    [Theory]
    [InlineData("mode", "HTTP", "mode=\"HTTP\"")]
    [InlineData("mode", "afterburn", "never implemented")]
    [InlineData("mode", "inproc", "Go-library only")]
    [InlineData("http_upstream_url", "127.0.0.1:5000", "http_upstream_url=\"127.0.0.1:5000\"")]
    [InlineData("http_upstream_url", "localhost:5000", "absolute http://")]
    [InlineData("http_upstream_url", "https://127.0.0.1:5000", "plain HTTP")]
    [InlineData("upstream_url", "http://127.0.0.1:5000/?a=1", "(env upstream_url)")]
    [InlineData("ready_path", "healthz", "must start with /")]
    [InlineData("http_buffer_req_body", "maybe", "true/false")]
    [InlineData("log_call_id", "sometimes", "true/false")]
    public void Bad_values_are_reported_with_the_value_and_an_example(string name, string value, string expected)
    {
        var env = Env(("mode", "http"), ("http_upstream_url", "http://127.0.0.1:5000"), (name, value));
        if (name == "upstream_url")
        {
            env.Remove("http_upstream_url"); // it would win over the alias
        }

        var outcome = WatchdogOptions.Parse(env, NoFlags);

        outcome.Value.Should().BeNull();
        outcome.Errors.Should().ContainSingle().Which.Should().Contain(expected).And.Contain("use e.g.");
    }

    [Fact]
    public void Http_mode_without_an_upstream_url_is_an_error()
    {
        var outcome = WatchdogOptions.Parse(Env(("mode", "http")), NoFlags);

        outcome.Errors.Should().ContainSingle().Which.Should().StartWith("http_upstream_url is not set").And.Contain("http_upstream_url=http://127.0.0.1:5000");
    }

    [Fact]
    public void Static_mode_with_a_missing_folder_is_an_error()
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["mode"] = "static", ["static_path"] = "/no/such/folder" }, NoFlags);

        outcome.Errors.Should().ContainSingle().Which.Should().Contain("static_path=\"/no/such/folder\"").And.Contain("does not exist");
    }

    private static Dictionary<string, string?> Env(params (string Name, string? Value)[] pairs)
    {
        var env = new Dictionary<string, string?> { ["fprocess"] = "python3 server.py" };
        foreach (var (name, value) in pairs)
        {
            env[name] = value;
        }

        return env;
    }

    private static WatchdogOptions Parse(Dictionary<string, string?> environment)
    {
        var outcome = WatchdogOptions.Parse(environment, NoFlags);
        outcome.Errors.Should().BeEmpty();
        return outcome.Value ?? throw new InvalidOperationException();
    }
}
