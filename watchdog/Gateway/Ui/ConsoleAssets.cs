using System.Reflection;
using System.Security.Cryptography;

namespace Fwatchdog.Gateway.Ui;

/// <summary>
/// The console's files, embedded in the binary (Watchdog.csproj, logical names <c>ui/{file}</c>;
/// the watchdog-only build has none). Read on the first request, not at start-up, so a gateway
/// nobody opens the console on pays nothing for it but the bytes in its image.
/// </summary>
internal static class ConsoleAssets
{
    private const string Folder = "ui/";

    private static readonly Lazy<IReadOnlyDictionary<string, ConsoleAsset>> Files = new(Load);

    /// <summary>The file named <paramref name="name"/> (e.g. <c>main.js</c>), or null.</summary>
    public static ConsoleAsset? Find(string name) => Files.Value.GetValueOrDefault(name);

    private static Dictionary<string, ConsoleAsset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var files = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Folder, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource) ?? throw new InvalidOperationException($"embedded resource {resource} is listed but cannot be opened");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource[Folder.Length..];
            files[name] = new ConsoleAsset(bytes, ContentType(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"");
        }

        return files;
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
