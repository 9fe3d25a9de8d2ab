using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>Reads the <c>ENV name="value"</c> lines of a Dockerfile (the final stage's settings).</summary>
internal static partial class DockerfileEnv
{
    public static Dictionary<string, string> Read(string dockerfile) =>
        File.ReadAllLines(dockerfile)
            .Select(line => EnvLine().Match(line))
            .Where(match => match.Success)
            .ToDictionary(match => match.Groups[1].Value, match => match.Groups[2].Value);

    [GeneratedRegex("^ENV ([A-Za-z_][A-Za-z0-9_]*)=\"([^\"]*)\"$")]
    private static partial Regex EnvLine();
}
