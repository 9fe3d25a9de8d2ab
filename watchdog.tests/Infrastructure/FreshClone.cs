using System.Diagnostics;

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
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} took over 5 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }
}
