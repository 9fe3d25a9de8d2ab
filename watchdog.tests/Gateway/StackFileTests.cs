using Fwatchdog.Gateway.Functions;

namespace Fwatchdog.Tests.Gateway;

/// <summary>The stack file is checked whole at load time: every problem, each with its JSON path.</summary>
public sealed class StackFileTests : FastTier
{
    [Fact]
    public void Every_json_problem_is_named_with_its_path()
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", """
            { "functions": {
                "echo": { "fprocess": "cat", "enviroment": { "a": "b" } },
                "wc": { "fprocess": 42, "max_attempts": "five" },
                "env": { "fprocess": "cat", "environment": { "n": 1 } }
              },
              "provider": {} }
            """, hasTemplate: false, errors);

        errors.Should().BeEquivalentTo(
        [
            "config \"s.json\" provider: unknown property; the stack file holds only \"functions\"",
            "config \"s.json\" functions.echo.enviroment: unknown property; a function has upstream, fprocess, environment, working_directory, timeout, max_concurrency, max_attempts, max_queued, max_queued_bytes, labels, annotations",
            "config \"s.json\" functions.wc.fprocess: must be text in quotes, not number 42",
            "config \"s.json\" functions.wc.max_attempts: must be a whole number, not \"five\"",
            "config \"s.json\" functions.env.environment.n: must be text in quotes, not number 1",
        ]);
    }

    [Fact]
    public void A_wrong_type_in_one_field_does_not_hide_a_bad_value_in_another()
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", """
            { "functions": {
                "wc": { "fprocess": 42, "timeout": "ten", "max_concurrency": 0 },
                "remote": { "upstream": ["http://a"], "max_attempts": 0 },
                "env": { "fprocess": "cat", "environment": { "n": 1, "exec_timeout": "ten" } }
              } }
            """, hasTemplate: false, errors);

        errors.Should().BeEquivalentTo(
        [
            "config \"s.json\" functions.wc.fprocess: must be text in quotes, not number 42",
            "config \"s.json\" functions.wc.timeout=\"ten\": not a duration above zero; use e.g. \"30s\"",
            "config \"s.json\" functions.wc.max_concurrency=0: must be 1 or more; use e.g. 4",
            "config \"s.json\" functions.remote.upstream: must be text in quotes, not array [\"http://a\"]",
            "config \"s.json\" functions.remote.max_attempts=0: must be 1 or more; use e.g. 5",
            "config \"s.json\" functions.env.environment.n: must be text in quotes, not number 1",
            "config \"s.json\" functions.env.environment: exec_timeout=\"ten\" (env exec_timeout): not a duration (seconds, or a number with ms, s, m or h; not negative); use e.g. exec_timeout=10s",
        ]);
    }

    [Fact]
    public void A_bad_watchdog_setting_in_environment_is_an_error_naming_function_and_variable()
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", """{ "functions": { "slow": { "fprocess": "cat", "environment": { "exec_timeout": "ten", "MY_VAR": "anything" } } } }""", hasTemplate: false, errors);

        errors.Should().ContainSingle().Which.Should().StartWith("config \"s.json\" functions.slow.environment: exec_timeout=\"ten\"");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void A_function_with_neither_fprocess_nor_upstream_needs_upstream_template(bool hasTemplate, int expectedErrors)
    {
        var errors = new List<string>();
        var functions = StackFile.Parse("s.json", """{ "functions": { "remote": { "timeout": "5s" } } }""", hasTemplate, errors);

        errors.Should().HaveCount(expectedErrors);
        errors.Where(e => !e.Contains("functions.remote: has neither \"fprocess\" nor \"upstream\", and upstream_template is not set", StringComparison.Ordinal)).Should().BeEmpty();
        functions.Should().ContainSingle();
    }

    [Theory]
    [InlineData("\"max_queued\": 50, \"max_queued_bytes\": 1048576", 50, 1048576L)]
    [InlineData("\"max_queued\": 0, \"max_queued_bytes\": \"100MiB\"", 0, 104857600L)]
    public void Max_queued_and_max_queued_bytes_are_read_as_a_count_and_a_size(string fields, int queued, long bytes)
    {
        var errors = new List<string>();
        var functions = StackFile.Parse("s.json", $$"""{ "functions": { "echo": { "upstream": "http://127.0.0.1:9", {{fields}} } } }""", hasTemplate: false, errors);

        errors.Should().BeEmpty();
        functions.Should().ContainSingle().Which.Should().Match<FunctionDefinition>(f => f.MaxQueued == queued && f.MaxQueuedBytes == bytes);
    }

    [Theory]
    [InlineData("\"max_queued\": -1", "functions.echo.max_queued=-1: must be 0 (no limit) or more; use e.g. 100")]
    [InlineData("\"max_queued_bytes\": \"lots\"", "functions.echo.max_queued_bytes: must be a size, a number of bytes or text such as \"100MiB\", not \"lots\"")]
    [InlineData("\"max_queued_bytes\": -5", "functions.echo.max_queued_bytes: must be a size, a number of bytes or text such as \"100MiB\", not -5")]
    public void A_negative_max_queued_or_a_max_queued_bytes_that_is_no_size_is_named(string fields, string error)
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", $$"""{ "functions": { "echo": { "upstream": "http://127.0.0.1:9", {{fields}} } } }""", hasTemplate: false, errors);

        errors.Should().Equal("config \"s.json\" " + error);
    }

    [Fact]
    public void Invalid_json_is_named_by_line_and_column_not_by_a_resource_key()
    {
        var errors = new List<string>();
        StackFile.Parse("s.json", "{ \"functions\": {\n  \"echo\": { \"fprocess\": \"cat\" \n} }", hasTemplate: false, errors);

        errors.Should().ContainSingle().Which.Should().MatchRegex("^config=\"s.json\": not valid JSON near line [0-9]+, column [0-9]+");
    }

    [Fact]
    public void Labels_and_annotations_are_read_as_maps_of_text()
    {
        var errors = new List<string>();
        var functions = StackFile.Parse("s.json", """
            { "functions": { "tick": { "upstream": "http://127.0.0.1:9",
                "labels": { "com.openfaas.scale.zero": "true" },
                "annotations": { "topic": "cron-function", "schedule": "*/5 * * * *" } } } }
            """, hasTemplate: false, errors);

        errors.Should().BeEmpty();
        var tick = functions.Should().ContainSingle().Subject;
        tick.Labels.Should().Equal(new Dictionary<string, string> { ["com.openfaas.scale.zero"] = "true" });
        tick.Annotations.Should().Equal(new Dictionary<string, string> { ["topic"] = "cron-function", ["schedule"] = "*/5 * * * *" });
    }

    [Fact]
    public void Labels_or_annotations_of_the_wrong_type_are_named_with_function_and_field()
    {
        var errors = new List<string>();
        var functions = StackFile.Parse("s.json", """
            { "functions": {
                "a": { "upstream": "http://127.0.0.1:9", "labels": ["x"] },
                "b": { "upstream": "http://127.0.0.1:9", "annotations": { "topic": 5 } }
              } }
            """, hasTemplate: false, errors);

        errors.Should().Equal(
            "config \"s.json\" functions.a.labels: must be an object of names and text values, e.g. {\"topic\": \"cron-function\"}",
            "config \"s.json\" functions.b.annotations.topic: must be text in quotes, not number 5");
        functions.Should().BeEmpty();
    }
}
