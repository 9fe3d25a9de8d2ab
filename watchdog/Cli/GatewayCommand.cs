using System.CommandLine;
using Fwatchdog.Gateway;

namespace Fwatchdog.Cli;

/// <summary><c>fwatchdog gateway</c>: one <c>--name</c> flag per gateway setting, winning over the environment.</summary>
internal static class GatewayCommand
{
    public static Command Build()
    {
        var command = new Command("gateway", "Run the gateway: sync calls on /function/{name}, queued calls on /async-function/{name} "
            + "with a durable queue (embedded SQLite, or NATS JetStream with queue=nats), the status API on /async-calls/{id}. Every option can also be set with the environment variable of the same name.");
        var settings = new SettingOptions(command, GatewaySettings.All);
        command.SetAction(async (parse, _) =>
        {
            var environment = WatchdogCommand.ReadEnvironment();
            WatchdogCommand.WarnAboutTypos(environment);
            var outcome = GatewayOptions.Parse(environment, settings.Given(parse));
            if (outcome.Value is not { } options)
            {
                return WatchdogCommand.ReportConfigErrors(outcome.Errors);
            }

            return await StartupFailure.RunAsync(() => GatewayApp.Create(options), app => app.RunAsync(),
                options.BindAddress, ("port", options.Port), ("metrics_port", options.MetricsPort));
        });
        return command;
    }
}
