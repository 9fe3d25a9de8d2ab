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
            files[name] = new ConsoleAsset(bytes, ContentType(name), "\"" + Fnv1a(bytes).ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "\"");
        }

        return files;
    }

    /// <summary>
    /// The entity tag: FNV-1a over the bytes. A tag only has to change when the file does; a
    /// cryptographic hash would load OpenSSL into the gateway (about 4 MiB resident, measured).
    /// </summary>
    private static ulong Fnv1a(byte[] bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
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
