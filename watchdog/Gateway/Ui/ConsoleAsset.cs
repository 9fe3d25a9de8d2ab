namespace Fwatchdog.Gateway.Ui;

/// <summary>One file of the console, as the binary carries it: its bytes, type and entity tag.</summary>
internal sealed record ConsoleAsset(byte[] Bytes, string ContentType, string ETag);
