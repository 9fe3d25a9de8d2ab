using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

public sealed class DocumentationSpecs
{
    [Fact]
    public void Readme_documents_every_setting()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

        foreach (var setting in WatchdogSettings.All)
        {
            readme.Should().Contain($"| `{setting.Name}`", $"{setting.Name} needs a row in the README's settings table");
        }

        var gateway = readme[readme.IndexOf("### Gateway settings", StringComparison.Ordinal)..];
        foreach (var setting in Fwatchdog.Gateway.GatewaySettings.All)
        {
            gateway.Should().MatchRegex($@"\| `{setting.Name}`[^|]*\| `{System.Text.RegularExpressions.Regex.Escape(setting.Default)}` \|", $"{setting.Name} needs a row in the README's gateway settings table");
        }
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Watchdog.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Watchdog.sln not found above " + AppContext.BaseDirectory);
    }
}
