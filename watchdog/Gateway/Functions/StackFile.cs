using System.Text.Json;
using Fwatchdog.Configuration;

namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// Reads the stack file (<c>config</c>): <c>{"functions": {"name": {...}}}</c>. Every problem is
/// reported with the JSON path, the value and an example, like the settings.
/// </summary>
internal static class StackFile
{
    private static readonly string[] Known = ["upstream", "fprocess", "environment", "working_directory", "timeout", "max_concurrency", "max_attempts", "max_queued", "max_queued_bytes", "labels", "annotations"];

    /// <summary>Reads the functions; every problem goes to <paramref name="errors"/>, each with its JSON path, not only the first.</summary>
    /// <param name="path">The stack file, for messages and relative working directories.</param>
    /// <param name="json">Its text.</param>
    /// <param name="hasTemplate">Whether upstream_template is set (then a function may have neither fprocess nor upstream).</param>
    /// <param name="errors">Where problems are added.</param>
    public static IReadOnlyList<FunctionDefinition> Parse(string path, string json, bool hasTemplate, List<string> errors)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            // The position says where to look; System.Text.Json's own message names internal token types.
            errors.Add($"config=\"{path}\": not valid JSON near line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}; see docs/gateway.md#the-stack-file-config");
            return [];
        }

        using (document)
        {
            var root = document.RootElement;
            var functions = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("functions", out var found) ? found : default;
            if (functions.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"config=\"{path}\": has no \"functions\" object; use e.g. {{\"functions\": {{\"echo\": {{\"fprocess\": \"cat\"}}}}}}");
                return [];
            }

            foreach (var extra in root.EnumerateObject().Where(p => p.Name != "functions"))
            {
                errors.Add($"config \"{path}\" {extra.Name}: unknown property; the stack file holds only \"functions\"");
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            var result = new List<FunctionDefinition>();
            foreach (var function in functions.EnumerateObject())
            {
                var name = function.Name;
                var at = $"config \"{path}\" functions.{name}";
                if (!FunctionName.IsValid(name) || name.Contains('.', StringComparison.Ordinal))
                {
                    errors.Add($"{at}: \"{name}\" is not a function name (letters, digits, - and _); use e.g. word-count");
                    continue;
                }

                if (function.Value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{at}: must be an object, e.g. {{\"fprocess\": \"cat\"}}");
                    continue;
                }

                // Values are checked even when a field has the wrong type, so that one mistake does not
                // hide another; the function is kept only when every field was well typed.
                var before = errors.Count;
                var entry = ReadEntry(function.Value, at, errors);
                var typed = errors.Count == before;
                var definition = Read(name, entry, at, folder, hasTemplate, errors);
                if (typed)
                {
                    result.Add(definition);
                }
            }

            return result;
        }
    }

    /// <summary>The function's properties, with every unknown property and wrong type named (a wrongly typed one is left unset).</summary>
    private static StackFunction ReadEntry(JsonElement element, string at, List<string> errors)
    {
        var entry = new StackFunction();
        foreach (var property in element.EnumerateObject())
        {
            entry.Given.Add(property.Name);
            var where = $"{at}.{property.Name}";
            var value = property.Value;
            switch (property.Name)
            {
                case "upstream":
                    entry.Upstream = Text(value, where, errors);
                    break;
                case "fprocess":
                    entry.Fprocess = Text(value, where, errors);
                    break;
                case "working_directory":
                    entry.WorkingDirectory = Text(value, where, errors);
                    break;
                case "timeout":
                    entry.Timeout = Text(value, where, errors);
                    break;
                case "max_concurrency":
                    entry.MaxConcurrency = Number(value, where, errors);
                    break;
                case "max_attempts":
                    entry.MaxAttempts = Number(value, where, errors);
                    break;
                case "max_queued":
                    entry.MaxQueued = Number(value, where, errors);
                    break;
                case "max_queued_bytes":
                    entry.MaxQueuedBytes = Size(value, where, errors);
                    break;
                case "environment":
                    entry.Environment = TextMap(value, where, "{\"exec_timeout\": \"10s\"}", errors);
                    break;
                case "labels":
                    entry.Labels = TextMap(value, where, "{\"topic\": \"cron-function\"}", errors);
                    break;
                case "annotations":
                    entry.Annotations = TextMap(value, where, "{\"topic\": \"cron-function\"}", errors);
                    break;
                default:
                    errors.Add($"{where}: unknown property; a function has {string.Join(", ", Known)}");
                    break;
            }
        }

        return entry;
    }

    /// <summary>An object of names and text values (environment, labels, annotations); null when it is not an object.</summary>
    private static Dictionary<string, string>? TextMap(JsonElement value, string where, string example, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: must be an object of names and text values, e.g. {example}");
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (Text(property.Value, $"{where}.{property.Name}", errors) is { } text)
            {
                map[property.Name] = text;
            }
        }

        return map;
    }

    private static string? Text(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        errors.Add($"{where}: must be text in quotes, not {value.ValueKind.ToString().ToLowerInvariant()} {value.GetRawText()}");
        return null;
    }

    private static int? Number(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }

        errors.Add($"{where}: must be a whole number, not {value.GetRawText()}");
        return null;
    }

    /// <summary>A size as a number of bytes or as text with a unit ("100MiB").</summary>
    private static long? Size(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var bytes) && bytes >= 0)
        {
            return bytes;
        }

        if (value.ValueKind == JsonValueKind.String && ByteSizeParser.TryParse(value.GetString() ?? "", out var parsed))
        {
            return parsed;
        }

        errors.Add($"{where}: must be a size, a number of bytes or text such as \"100MiB\", not {value.GetRawText()}");
        return null;
    }

    private static FunctionDefinition Read(string name, StackFunction entry, string at, string folder, bool hasTemplate, List<string> errors)
    {
        Uri? upstream = null;
        if (entry.Upstream is { } text)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out upstream) || upstream.Scheme != "http" || upstream.Query.Length > 0)
            {
                errors.Add($"{at}.upstream=\"{text}\": not an absolute http:// address without a query (functions are reached over plain HTTP); use e.g. http://127.0.0.1:8081");
                upstream = null;
            }
        }

        var local = entry.Given.Contains("fprocess");
        var remote = entry.Given.Contains("upstream");
        if (local && remote)
        {
            errors.Add($"{at}: has both \"upstream\" and \"fprocess\"; a function is either remote (upstream) or local (fprocess)");
        }

        if (!local && !remote && !hasTemplate)
        {
            errors.Add($"{at}: has neither \"fprocess\" nor \"upstream\", and upstream_template is not set; give it one of them, e.g. \"fprocess\": \"cat\"");
        }

        if (entry.Fprocess is { } fprocess && (!CommandLineSplitter.TrySplit(fprocess, out var words, out _) || words.Count == 0))
        {
            errors.Add($"{at}.fprocess=\"{fprocess}\": not a command; use e.g. \"wc -w\"");
        }
        else if (entry.Fprocess is { } command && entry.Environment is { Count: > 0 } settings)
        {
            // The function's watchdog would refuse these at its start and be restarted over and over:
            // the same parser says so now, and the gateway does not start.
            var childEnvironment = settings.ToDictionary(s => s.Key, s => (string?)s.Value, StringComparer.Ordinal);
            childEnvironment[WatchdogSettings.FunctionProcess.Name] = command;
            foreach (var error in WatchdogOptions.Parse(childEnvironment, new Dictionary<string, string>()).Errors)
            {
                errors.Add($"{at}.environment: {error}");
            }
        }

        TimeSpan? timeout = null;
        if (entry.Timeout is { } timeoutText)
        {
            if (DurationParser.TryParse(timeoutText, out var parsed) && parsed > TimeSpan.Zero)
            {
                timeout = parsed;
            }
            else
            {
                errors.Add($"{at}.timeout=\"{timeoutText}\": not a duration above zero; use e.g. \"30s\"");
            }
        }

        if (entry.MaxConcurrency is < 1)
        {
            errors.Add($"{at}.max_concurrency={entry.MaxConcurrency}: must be 1 or more; use e.g. 4");
        }

        if (entry.MaxAttempts is < 1)
        {
            errors.Add($"{at}.max_attempts={entry.MaxAttempts}: must be 1 or more; use e.g. 5");
        }

        if (entry.MaxQueued is < 0)
        {
            errors.Add($"{at}.max_queued={entry.MaxQueued}: must be 0 (no limit) or more; use e.g. 100");
        }

        var environment = entry.Environment ?? [];
        if (!local && (environment.Count > 0 || entry.WorkingDirectory is not null))
        {
            errors.Add($"{at}: \"environment\" and \"working_directory\" only apply to a local function (one with \"fprocess\")");
        }

        var workingDirectory = Path.GetFullPath(Path.Combine(folder, entry.WorkingDirectory ?? "."));
        if (entry.Fprocess is not null && !Directory.Exists(workingDirectory))
        {
            errors.Add($"{at}.working_directory=\"{entry.WorkingDirectory}\": folder {workingDirectory} does not exist (relative paths start at the stack file's folder)");
        }

        return new FunctionDefinition
        {
            Name = name,
            Upstream = upstream,
            Fprocess = entry.Fprocess,
            Environment = environment,
            WorkingDirectory = workingDirectory,
            Timeout = timeout,
            MaxConcurrency = entry.MaxConcurrency,
            MaxAttempts = entry.MaxAttempts,
            MaxQueued = entry.MaxQueued,
            MaxQueuedBytes = entry.MaxQueuedBytes,
            Labels = entry.Labels ?? [],
            Annotations = entry.Annotations ?? [],
        };
    }

    /// <summary>One function's entry as written.</summary>
    private sealed class StackFunction
    {
        /// <summary>The properties written, well typed or not.</summary>
        public HashSet<string> Given { get; } = new(StringComparer.Ordinal);

        public string? Upstream { get; set; }

        public string? Fprocess { get; set; }

        public Dictionary<string, string>? Environment { get; set; }

        public string? WorkingDirectory { get; set; }

        public Dictionary<string, string>? Labels { get; set; }

        public Dictionary<string, string>? Annotations { get; set; }

        public string? Timeout { get; set; }

        public int? MaxConcurrency { get; set; }

        public int? MaxAttempts { get; set; }

        public int? MaxQueued { get; set; }

        public long? MaxQueuedBytes { get; set; }
    }
}
