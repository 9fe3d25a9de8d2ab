namespace Fwatchdog.Hosting;

/// <summary>
/// A server cannot start, for a reason the user can fix (a data_dir or lock file that cannot be written, a
/// damaged database). The message is one line naming the setting and the value; the command line
/// prints it and exits 2, without a stack trace.
/// </summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
