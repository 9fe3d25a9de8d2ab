using Fwatchdog.Execution;
using Fwatchdog.Server.ForkMode;

namespace Fwatchdog.Tests.Server;

public sealed class OutcomeStatusTests : FastTier
{
    [Theory]
    [InlineData("Succeeded", 200, "ok")]
    [InlineData("Failed", 500, "exit-code")]
    [InlineData("StartFailed", 500, "start-failed")]
    [InlineData("BadCgiResponse", 500, "bad-cgi-response")]
    [InlineData("TimedOut", 504, "exec-timeout")]
    [InlineData("ReadTimedOut", 408, "read-timeout")]
    [InlineData("BodyTooLarge", 413, "body-too-large")]
    [InlineData("ShuttingDown", 503, "shutting-down")]
    public void Outcomes_map_to_one_status_and_reason(string name, int status, string reason)
    {
        var outcome = Enum.Parse<FunctionOutcome>(name);
        OutcomeStatus.For(outcome).Should().Be(status);
        OutcomeStatus.Reason(outcome).Should().Be(reason);
    }

    [Theory]
    [InlineData("ClientGone")]
    [InlineData("WriteTimedOut")]
    public void Outcomes_without_a_listener_or_time_left_get_no_response(string name) =>
        OutcomeStatus.For(Enum.Parse<FunctionOutcome>(name)).Should().BeNull();

    [Fact]
    public void Every_outcome_has_a_reason_of_its_own() =>
        Enum.GetValues<FunctionOutcome>().Select(OutcomeStatus.Reason).Should().OnlyHaveUniqueItems().And.NotContain("error");
}
