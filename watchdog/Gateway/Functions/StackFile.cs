using System.Text.Json;
using System.Text.Json.Serialization;
using Fwatchdog.Configuration;

namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// Reads the stack file (<c>config</c>): <c>{"functions": {"name": {...}}}</c>. Every problem is
/// reported with the JSON path, the value and an example, like the settings.
/// </summary>
internal static partial class StackFile
{
    public static IReadOnlyList<FunctionDefinition> Parse(string path, string json, List<string> errors)
    {
        StackDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, StackJsonContext.Default.StackDocument);
        }
        catch (JsonException e)
        {
            errors.Add($"config=\"{path}\": not a valid stack file ({e.Message}); see README \"The stack file\"");
            return [];
        }

        if (document?.Functions is not { } functions)
        {
            errors.Add($"config=\"{path}\": has no \"functions\" object; use e.g. {{\"functions\": {{\"echo\": {{\"fprocess\": \"cat\"}}}}}}");
            return [];
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var result = new List<FunctionDefinition>();
        foreach (var (name, entry) in functions)
        {
            var at = $"config \"{path}\" functions.{name}";
            if (!FunctionName.IsValid(name) || name.Contains('.', StringComparison.Ordinal))
            {
                errors.Add($"{at}: \"{name}\" is not a function name (letters, digits, - and _); use e.g. word-count");
                continue;
            }

            result.Add(Read(name, entry, at, folder, errors));
        }

        return result;
    }

    private static FunctionDefinition Read(string name, StackFunction entry, string at, string folder, List<string> errors)
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

        if (entry.Fprocess is not null && entry.Upstream is not null)
        {
            errors.Add($"{at}: has both \"upstream\" and \"fprocess\"; a function is either remote (upstream) or local (fprocess)");
        }

        if (entry.Fprocess is { } fprocess && (!CommandLineSplitter.TrySplit(fprocess, out var words, out _) || words.Count == 0))
        {
            errors.Add($"{at}.fprocess=\"{fprocess}\": not a command; use e.g. \"wc -w\"");
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

        var environment = entry.Environment ?? [];
        if (entry.Fprocess is null && (environment.Count > 0 || entry.WorkingDirectory is not null))
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
        };
    }

    internal sealed class StackDocument
    {
        [JsonPropertyName("functions")]
        public Dictionary<string, StackFunction>? Functions { get; set; }
    }

    internal sealed class StackFunction
    {
        [JsonPropertyName("upstream")]
        public string? Upstream { get; set; }

        [JsonPropertyName("fprocess")]
        public string? Fprocess { get; set; }

        [JsonPropertyName("environment")]
        public Dictionary<string, string>? Environment { get; set; }

        [JsonPropertyName("working_directory")]
        public string? WorkingDirectory { get; set; }

        [JsonPropertyName("timeout")]
        public string? Timeout { get; set; }

        [JsonPropertyName("max_concurrency")]
        public int? MaxConcurrency { get; set; }

        [JsonPropertyName("max_attempts")]
        public int? MaxAttempts { get; set; }
    }

    [JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
    [JsonSerializable(typeof(StackDocument))]
    internal sealed partial class StackJsonContext : JsonSerializerContext;
}
