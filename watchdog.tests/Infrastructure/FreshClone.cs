namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// <c>git clone</c> of the repository (its committed HEAD, as a newcomer gets it) into a temp
/// folder as <c>fwatchdog/</c>, built once with <c>dotnet build watchdog</c> so every
/// <c>dotnet run</c> a doc block starts is an incremental no-op. Deleted after.
/// </summary>
public sealed class FreshClone : IAsyncLifetime
{
    /// <summary>The temp folder holding the clone; the docs' "outside the repository" folders land here too.</summary>
    public string Parent { get; } = Directory.CreateTempSubdirectory("fwatchdog-clone-").FullName;

    public string Root => Path.Combine(Parent, "fwatchdog");

    public async Task InitializeAsync()
    {
        await RunAsync(Parent, "git", "clone", "--quiet", DocumentationRoot(), Root);
        await RunAsync(Root, "dotnet", "build", "watchdog", "--verbosity", "quiet", "-nodeReuse:false", "-p:UseSharedCompilation=false");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Parent, recursive: true);
        return Task.CompletedTask;
    }

    private static string DocumentationRoot() => Specs.DocumentationSpecs.RepositoryRoot();

    private static async Task RunAsync(string directory, string file, params string[] args)
    {
        var (exitCode, output) = await Commands.CaptureAsync(file, args, TimeSpan.FromMinutes(5), directory,
            new Dictionary<string, string> { ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["MSBUILDDISABLENODEREUSE"] = "1" });
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {exitCode}:\n{output}");
        }
    }
}
