namespace Fwatchdog.Tests.Specs;

/// <summary>
/// The docs' commands pasted literally into bash, as a newcomer would: in a fresh clone, in a fresh
/// network namespace (so the default ports are free), from the folder the text names. Blocks are
/// read from the markdown files (<c>&lt;!-- run: name --&gt;</c>), and their output is compared
/// with the block marked <c>&lt;!-- output: name --&gt;</c>.
/// </summary>
public sealed class DocumentedCommandSpecs(FreshClone clone) : IClassFixture<FreshClone>
{
    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan BlockWithin = TimeSpan.FromSeconds(60);

    /// <summary>Every block marked <c>run</c> in the docs is one of these (DocumentationSpecs checks it).</summary>
    public static IReadOnlyList<string> RunBlocks(string root) =>
        new[]
        {
            "README.md#setup", "README.md#quick-start", "docs/async.md#queue",
            "docs/gateway.md#nats-start", "docs/gateway.md#nats-call",
            "docs/tracing.md#serve", "docs/tracing.md#call",
            "docs/watchdog.md#serve", "docs/watchdog.md#call",
            "docs/writing-a-function.md#create-and-serve", "docs/writing-a-function.md#call",
        }.Concat(SampleSpecs.SampleNames(root).SelectMany(s => new[] { $"samples/{s}/README.md#serve", $"samples/{s}/README.md#call" })).ToList();

    public static TheoryData<string> Samples() => new(SampleSpecs.SampleNames(DocumentationSpecs.RepositoryRoot()));

    [RootFact(NetworkNamespace.Needs, Timeout = 300_000)]
    public async Task The_readme_setup_command_starts_the_gateway_and_the_quick_start_prints_what_the_readme_promises()
    {
        var setup = Block("README.md", "setup").Split('\n')[0];
        await using var ns = await NetworkNamespace.CreateAsync(clone.Parent);
        var gateway = ns.Start(clone.Root, setup);
        await gateway.WaitForAsync("Gateway: Listening on port 8080", StartWithin);

        await RunAndCompareAsync(ns, gateway, clone.Root, "README.md", "quick-start");
        await RunAndCompareAsync(ns, gateway, clone.Root, "docs/async.md", "queue");
        File.Exists(Path.Combine(clone.Root, "fwatchdog-data", "queue.db")).Should().BeTrue($"the default data_dir lands in the folder the command ran from; it holds {string.Join(", ", Directory.EnumerateFileSystemEntries(clone.Root))}");
    }

    [RootFact(NetworkNamespace.Needs, Timeout = 300_000)]
    public Task The_nats_recipe_runs_two_replicas_that_share_calls() =>
        StartThenCallAsync("docs/gateway.md", ("nats-start", clone.Root), "Gateway: Listening on port 808", 2, ("nats-call", clone.Root));

    [RootFact(NetworkNamespace.Needs, Timeout = 300_000)]
    public Task The_watchdog_page_serves_wc_from_the_repository_root() =>
        StartThenCallAsync("docs/watchdog.md", ("serve", clone.Root), "Listening on port 8080;", 1, ("call", clone.Root));

    [RootFact(NetworkNamespace.Needs, Timeout = 300_000)]
    public Task The_tracing_page_shows_the_callers_trace_in_the_processs_TRACEPARENT() =>
        StartThenCallAsync("docs/tracing.md", ("serve", clone.Root), "Listening on port 8080;", 1, ("call", clone.Root));

    [RootFact(NetworkNamespace.Needs, Timeout = 300_000)]
    public Task A_function_written_outside_the_repository_runs_as_the_guide_says() =>
        StartThenCallAsync("docs/writing-a-function.md", ("create-and-serve", clone.Root), "Listening on port 8080;", 1, ("call", Path.Combine(clone.Parent, "hello-fn")));

    [RootTheory(NetworkNamespace.Needs, Timeout = 300_000)]
    [MemberData(nameof(Samples))]
    public Task A_sample_runs_from_its_own_folder_as_its_readme_says(string sample)
    {
        var folder = Path.Combine(clone.Root, "samples", sample);
        return StartThenCallAsync($"samples/{sample}/README.md", ("serve", folder), "Listening on port 8080;", 1, ("call", folder));
    }

    /// <summary>Starts the server block in the background, waits for its listening line(s), then pastes the call block.</summary>
    private async Task StartThenCallAsync(string file, (string Name, string Folder) start, string listening, int times, (string Name, string Folder) call)
    {
        await using var ns = await NetworkNamespace.CreateAsync(clone.Parent);
        var server = ns.Start(start.Folder, Block(file, start.Name));
        await server.WaitForAsync(listening, StartWithin, times);

        await RunAndCompareAsync(ns, server, call.Folder, file, call.Name);
    }

    private string Block(string file, string name) => DocBlocks.Find(clone.Root, file, DocBlockMarker.Run, name);

    /// <summary>Pastes block <paramref name="name"/> and compares what it prints with its output block; on a mismatch, says what the server logged.</summary>
    private async Task RunAndCompareAsync(NetworkNamespace ns, NetworkNamespace.Shell server, string directory, string file, string name)
    {
        var block = ns.Start(directory, Block(file, name));
        (await block.WaitForExitAsync(BlockWithin)).Should().BeTrue($"block '{name}' of {file} should finish within {BlockWithin}; it printed:\n{block.Output}");
        var promised = DocBlocks.Find(clone.Root, file, DocBlockMarker.Output, name);
        var serverLog = server.Output;

        DocBlocks.Matches(promised, block.Stdout).Should().BeTrue(
            $"{file} promises that block '{name}' prints\n{promised}\nbut it printed (stdout and stderr)\n{block.Output}\nwhile the server logged (last 6000 characters)\n{serverLog[Math.Max(0, serverLog.Length - 6000)..]}");
    }
}
