namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Every way <c>fwatchdog gateway</c> can fail to start ends in exit code 2 and one readable line
/// per problem: no stack trace, no bare resource key.
/// </summary>
public sealed class GatewayStartupSpecs : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fwatchdog-startup-").FullName;

    private string Stack => Path.Combine(_folder, "stack.json");

    public GatewayStartupSpecs()
    {
        File.WriteAllText(Stack, """{ "functions": { "echo": { "upstream": "http://127.0.0.1:9" } } }""");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_bad_watchdog_setting_in_a_functions_environment_stops_start_up_naming_function_and_variable()
    {
        File.WriteAllText(Stack, """{ "functions": { "slow": { "fprocess": "cat", "environment": { "exec_timeout": "ten" } } } }""");

        var output = await FailsToStartAsync(Settings());

        output.Should().Contain("functions.slow.environment: exec_timeout=\"ten\"");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_config_file_is_named_in_words()
    {
        var output = await FailsToStartAsync(Settings(("config", Path.Combine(_folder, "nope.json"))));

        output.Should().Contain("nope.json").And.Contain("no such file");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_config_that_is_a_folder_is_named_in_words()
    {
        var output = await FailsToStartAsync(Settings(("config", _folder)));

        output.Should().Contain("is a folder, not a file");
    }

    [RootFact("chattr +i makes the folder unwritable even for root", Timeout = 30_000)]
    public async Task A_data_dir_that_cannot_be_written_stops_start_up()
    {
        // Root ignores permission bits; an immutable parent folder refuses even root.
        var locked = Path.Combine(_folder, "locked");
        Directory.CreateDirectory(locked);
        await Commands.RunAsync("chattr", "+i", locked);
        try
        {
            var output = await FailsToStartAsync(Settings(("data_dir", Path.Combine(locked, "data"))));

            output.Should().Contain("data_dir=").And.Contain("cannot be written");
        }
        finally
        {
            await Commands.RunAsync("chattr", "-i", locked);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_file_that_is_not_a_database_stops_start_up()
    {
        var data = Path.Combine(_folder, "data");
        Directory.CreateDirectory(data);
        await File.WriteAllBytesAsync(Path.Combine(data, "queue.db"), Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray());

        var output = await FailsToStartAsync(Settings(("data_dir", data)));

        output.Should().Contain("queue.db is not a SQLite database");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_partly_damaged_database_stops_start_up_after_its_quick_check()
    {
        var data = Path.Combine(_folder, "data");
        Directory.CreateDirectory(data);
        var database = Path.Combine(data, "queue.db");
        await Commands.RunAsync("python3", "-c",
            "import sqlite3, sys\n"
            + "c = sqlite3.connect(sys.argv[1])\n"
            + "c.execute('CREATE TABLE t (x TEXT)')\n"
            + "c.executemany('INSERT INTO t VALUES (?)', [('x' * 300,) for _ in range(500)])\n"
            + "c.commit()\n",
            database);
        await using (var file = new FileStream(database, FileMode.Open, FileAccess.Write))
        {
            // Page 10 of 4 KiB: the middle of the table's b-tree, well past the header SQLite reads on open.
            file.Position = 9 * 4096;
            await file.WriteAsync(Enumerable.Repeat((byte)0xA5, 4096).ToArray());
        }

        var output = await FailsToStartAsync(Settings(("data_dir", data)));

        output.Should().Contain("is damaged (SQLite quick_check:");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("port")]
    [InlineData("metrics_port")]
    public async Task A_port_in_use_is_named(string setting)
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var settings = Settings();
        settings[setting] = port;

        var output = await FailsToStartAsync(settings);

        output.Should().Contain($"{setting}={port}: the port is already in use");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_function_watchdogs_port_in_use_is_named_too()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var output = await FailsToStartAsync(new Dictionary<string, string>
        {
            ["fprocess"] = "cat",
            ["port"] = port,
            ["metrics_port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["suppress_lock"] = "true",
        }, command: []);

        output.Should().Contain($"port={port}: the port is already in use");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_sqlite_library_is_named()
    {
        // The build output without runtimes/*/native/libe_sqlite3.so (copied: the host resolves symbolic links back to the original).
        var copy = Path.Combine(_folder, "bin");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var output = await FailsToStartAsync(Settings(), binary: Path.Combine(copy, "fwatchdog.dll"));

        output.Should().Contain("libe_sqlite3.so");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Dictionary<string, string> Settings(params (string Name, string Value)[] overrides)
    {
        var settings = new Dictionary<string, string>
        {
            ["config"] = Stack,
            ["port"] = "0",
            ["metrics_port"] = "0",
            ["bind_address"] = "127.0.0.1",
            ["data_dir"] = Path.Combine(_folder, "data"),
        };
        foreach (var (name, value) in overrides)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>Runs the gateway; asserts exit 2 with readable lines and no stack trace; returns what it printed.</summary>
    private static async Task<string> FailsToStartAsync(Dictionary<string, string> settings, string? binary = null, string[]? command = null)
    {
        await using var process = binary is null
            ? WatchdogProcess.Start(settings, command ?? ["gateway"])
            : WatchdogProcess.Start(settings, command ?? ["gateway"], wrapper: ["dotnet"], binary: binary);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(25));
        var output = process.Output;
        process.ExitCode.Should().Be(2, output);
        output.Should().Contain("fwatchdog: ").And.NotContain("Unhandled exception").And.NotContain("   at ", "no stack trace: {0}", output);
        output.Should().NotMatchRegex("[A-Z][A-Za-z]+_[A-Z][A-Za-z]+_", "no bare resource keys such as IO_PathNotFound_Path: {0}", output);
        return output;
    }
}
