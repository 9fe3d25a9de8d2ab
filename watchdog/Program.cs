using Fwatchdog.Cli;

// fwatchdog: a function watchdog (the default command) and, later, a gateway (`fwatchdog gateway`).
return await WatchdogCommand.RunAsync(args);
