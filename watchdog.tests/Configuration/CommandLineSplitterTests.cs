using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Configuration;

public sealed class CommandLineSplitterTests : FastTier
{
    [Theory]
    [InlineData("cat", new[] { "cat" })]
    [InlineData("wc -w", new[] { "wc", "-w" })]
    [InlineData("  wc   -w  ", new[] { "wc", "-w" })]
    [InlineData("python3 -c \"print(1)\"", new[] { "python3", "-c", "print(1)" })]
    [InlineData("sh -c 'echo $HOME; exit 3'", new[] { "sh", "-c", "echo $HOME; exit 3" })]
    [InlineData("echo \"a \\\"quoted\\\" word\"", new[] { "echo", "a \"quoted\" word" })]
    [InlineData("echo a\\ b", new[] { "echo", "a b" })]
    [InlineData("echo \"\" x", new[] { "echo", "", "x" })]
    [InlineData("echo pre'mid dle'post", new[] { "echo", "premid dlepost" })]
    public void Splits_like_a_shell_without_running_one(string line, string[] expected)
    {
        CommandLineSplitter.TrySplit(line, out var words, out var error).Should().BeTrue(error);
        words.Should().Equal(expected);
    }

    [Theory]
    [InlineData("echo 'open", "unterminated single quote")]
    [InlineData("echo \"open", "unterminated double quote")]
    [InlineData("echo \\", "trailing backslash")]
    public void Unbalanced_quoting_is_an_error(string line, string expected)
    {
        CommandLineSplitter.TrySplit(line, out _, out var error).Should().BeFalse();
        error.Should().Contain(expected);
    }
}
