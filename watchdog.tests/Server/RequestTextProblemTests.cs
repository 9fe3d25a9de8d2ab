using Fwatchdog.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Fwatchdog.Tests.Server;

public sealed class RequestTextProblemTests : FastTier
{
    [Theory]
    [InlineData("/fn/a\rb", "0x0d")]
    [InlineData("/fn/a\u000bb", "0x0b")]
    [InlineData("/fn/a\u000cb", "0x0c")]
    [InlineData("/fn/a\u007fb", "0x7f")]
    [InlineData("/fn/a\tb", "0x09")]
    [InlineData("/fn?q=\u0001", "0x01")]
    public void A_control_character_in_the_target_is_a_problem_that_names_it(string target, string named)
    {
        var problem = RequestTextProblem.Find(Context(target));

        problem.Should().NotBeNull();
        problem?.InTarget.Should().BeTrue();
        problem?.Message.Should().Contain("request target").And.Contain(named);
    }

    [Theory]
    [InlineData("a\u0001b", "0x01")]
    [InlineData("\u001b[2J", "0x1b")]
    [InlineData("a\u007f", "0x7f")]
    [InlineData("a\u000bb", "0x0b")]
    public void A_control_character_in_a_header_value_is_a_problem_that_names_the_header(string value, string named)
    {
        var problem = RequestTextProblem.Find(Context("/fn", ("X-Name", value)));

        problem.Should().NotBeNull();
        problem?.InTarget.Should().BeFalse();
        problem?.Message.Should().Contain("header X-Name").And.Contain(named);
    }

    [Theory]
    [InlineData("/fn/a%0Db?q=%7F", "tab\tis fine")]
    [InlineData("/caf\u00e9", "caf\u00e9 \u00ff bytes from 0x80 up")]
    [InlineData("*", "")]
    public void Tab_in_a_header_value_percent_encoded_bytes_and_bytes_from_0x80_are_no_problem(string target, string value) =>
        RequestTextProblem.Find(Context(target, ("X-Name", value))).Should().BeNull();

    [Theory]
    [InlineData("/plain", "/plain")]
    [InlineData("/esc\u001b[2J", "/esc\\x1b[2J")]
    [InlineData("/a\rb\nc\u007f", "/a\\x0db\\x0ac\\x7f")]
    public void Logged_text_has_control_characters_escaped(string text, string logged) =>
        RequestTextProblem.ForLog(text).Should().Be(logged);

    private static DefaultHttpContext Context(string target, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        (context.Features.Get<IHttpRequestFeature>() ?? throw new InvalidOperationException("no request feature")).RawTarget = target;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context;
    }
}
