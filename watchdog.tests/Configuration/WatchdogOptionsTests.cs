using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

public sealed class WatchdogOptionsTests : FastTier
{
    private static readonly Dictionary<string, string> NoFlags = [];

    [Fact]
    public void Defaults_match_the_classic_watchdog_where_users_rely_on_them()
    {
        var options = Parse(new() { ["fprocess"] = "cat" });

        options.Command.Should().Equal("cat");
        options.Port.Should().Be(8080);
        options.MetricsPort.Should().Be(8081);
        options.ReadTimeout.Should().Be(TimeSpan.FromSeconds(30));
        options.WriteTimeout.Should().Be(TimeSpan.FromSeconds(30));
        options.ExecTimeout.Should().Be(TimeSpan.Zero);
        options.HealthcheckInterval.Should().Be(TimeSpan.FromSeconds(30));
        options.MaxInflight.Should().Be(0);
        options.CgiHeaders.Should().BeTrue();
        options.CombineOutput.Should().BeFalse();
        options.ResponseBufferBytes.Should().Be(64 * 1024);
        options.LockFile.Should().Be(Path.Combine(Path.GetTempPath(), ".lock"));
    }

    [Theory]
    [InlineData("runner", "fork", "runner=\"fork\" (env runner): not a runner (native or cliwrap); use e.g. runner=native")]
    [InlineData("mode", "HTTP", "mode=\"HTTP\" (env mode): not a mode (streaming, serializing, http or static, in lower case); use e.g. mode=http")]
    [InlineData("mode", "inproc", "mode=\"inproc\" (env mode): not supported (inproc is Go-library only, afterburn was never implemented by the of-watchdog; the modes are streaming, serializing, http and static); use e.g. mode=http")]
    public void A_value_that_is_none_of_the_choices_names_them_and_says_use_once(string name, string value, string error)
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = "cat", ["http_upstream_url"] = "http://127.0.0.1:5000", [name] = value }, NoFlags);

        outcome.Errors.Should().Equal(error);
    }

    [Fact]
    public void Lock_file_can_be_moved_for_several_watchdogs_on_one_host()
    {
        Parse(new() { ["fprocess"] = "cat", ["lock_file"] = "/run/fn-a.lock" }).LockFile.Should().Be("/run/fn-a.lock");
    }

    [Fact]
    public void Healthcheck_interval_defaults_to_write_timeout()
    {
        Parse(new() { ["fprocess"] = "cat", ["write_timeout"] = "7" }).HealthcheckInterval.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public void Function_process_alias_is_accepted()
    {
        Parse(new() { ["function_process"] = "wc -l" }).Command.Should().Equal("wc", "-l");
    }

    [Fact]
    public void Flags_win_over_environment_variables()
    {
        var outcome = WatchdogOptions.Parse(
            new Dictionary<string, string?> { ["fprocess"] = "cat", ["port"] = "9000", ["exec_timeout"] = "5s" },
            new Dictionary<string, string> { ["port"] = "9100", ["fprocess"] = "wc -c" });

        outcome.Errors.Should().BeEmpty();
        var options = outcome.Value ?? throw new InvalidOperationException();
        options.Port.Should().Be(9100);
        options.Command.Should().Equal("wc", "-c");
        options.ExecTimeout.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once_with_its_value_and_an_example()
    {
        var outcome = WatchdogOptions.Parse(
            new Dictionary<string, string?>
            {
                ["read_timeout"] = "ten",
                ["max_inflight"] = "-3",
                ["write_debug"] = "maybe",
                ["port"] = "70000",
                ["max_request_bytes"] = "lots",
            },
            NoFlags);

        outcome.Value.Should().BeNull();
        outcome.Errors.Should().HaveCount(6);
        outcome.Errors.Should().Contain(e => e.StartsWith("fprocess is not set", StringComparison.Ordinal) && e.Contains("e.g. fprocess="));
        outcome.Errors.Should().Contain(e => e.Contains("read_timeout=\"ten\"") && e.Contains("e.g. read_timeout=30s"));
        outcome.Errors.Should().Contain(e => e.Contains("max_inflight=\"-3\""));
        outcome.Errors.Should().Contain(e => e.Contains("write_debug=\"maybe\"") && e.Contains("true/false"));
        outcome.Errors.Should().Contain(e => e.Contains("port=\"70000\"") && e.Contains("0 to 65535"));
        outcome.Errors.Should().Contain(e => e.Contains("max_request_bytes=\"lots\""));
    }

    [Fact]
    public void Error_names_the_flag_when_the_bad_value_came_from_a_flag()
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = "cat" }, new Dictionary<string, string> { ["exec_timeout"] = "soon" });

        outcome.Errors.Should().ContainSingle().Which.Should().Contain("(--exec_timeout)");
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("t", true)]
    [InlineData("T", true)]
    [InlineData("False", false)]
    [InlineData("f", false)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("off", false)]
    public void Booleans_accept_the_usual_spellings(string text, bool expected)
    {
        Parse(new() { ["fprocess"] = "cat", ["cgi_headers"] = text }).CgiHeaders.Should().Be(expected);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("1")]
    public void Jwt_auth_is_refused_so_no_function_is_served_unprotected_by_mistake(string value)
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = "cat", ["jwt_auth"] = value }, new Dictionary<string, string>());

        outcome.Errors.Should().ContainSingle().Which.Should().Contain("jwt_auth").And.Contain("not implemented").And.Contain("basic_auth");
    }

    [Fact]
    public void Jwt_auth_false_is_accepted()
    {
        Parse(new() { ["fprocess"] = "cat", ["jwt_auth"] = "false" }).FunctionProcess.Should().Be("cat");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("'unterminated")]
    public void Empty_or_unsplittable_fprocess_is_an_error(string fprocess)
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = fprocess }, NoFlags);

        outcome.Errors.Should().ContainSingle().Which.Should().StartWith("fprocess");
    }

    [Fact]
    public void Empty_values_keep_the_default_like_the_classic_watchdog()
    {
        Parse(new() { ["fprocess"] = "cat", ["read_timeout"] = "" }).ReadTimeout.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Metrics_port_equal_to_port_is_an_error()
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = "cat", ["port"] = "9000", ["metrics_port"] = "9000" }, NoFlags);

        outcome.Errors.Should().ContainSingle().Which.Should().Contain("metrics_port");
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("*")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void Bind_address_accepts_addresses(string bind) =>
        Parse(new() { ["fprocess"] = "cat", ["bind_address"] = bind }).BindAddress.Should().Be(bind);

    [Fact]
    public void Bind_address_rejects_host_names()
    {
        var outcome = WatchdogOptions.Parse(new Dictionary<string, string?> { ["fprocess"] = "cat", ["bind_address"] = "example" }, NoFlags);

        outcome.Errors.Should().ContainSingle().Which.Should().Contain("bind_address=\"example\"");
    }

    private static WatchdogOptions Parse(Dictionary<string, string?> environment)
    {
        var outcome = WatchdogOptions.Parse(environment, NoFlags);
        outcome.Errors.Should().BeEmpty();
        return outcome.Value ?? throw new InvalidOperationException();
    }
}
