using Fwatchdog.Gateway.Queue;

namespace Fwatchdog.Tests.Gateway;

/// <summary>The workers' round-robin across functions.</summary>
public sealed class FairTurnsTests : FastTier
{
    [Fact]
    public void Each_functions_first_call_comes_before_any_functions_second()
    {
        var turns = new FairTurns();

        var order = turns.Order(["a1", "a2", "a3", "b1", "c1", "b2"], call => call[..1]);

        order.Should().Equal("a1", "b1", "c1", "a2", "b2", "a3");
    }

    [Fact]
    public void The_function_served_longest_ago_goes_first_however_old_the_others_backlog()
    {
        var turns = new FairTurns();
        turns.Served("b");
        turns.Served("a");

        var order = turns.Order(["a1", "a2", "b1", "c1"], call => call[..1]);

        order.Should().Equal("c1", "b1", "a1", "a2");
    }
}
