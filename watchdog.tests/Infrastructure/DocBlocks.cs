using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>How a fenced block in the docs is marked by the HTML comment on the line before it.</summary>
internal enum DocBlockMarker
{
    /// <summary>No marker: a spec fails on it.</summary>
    None,

    /// <summary><c>&lt;!-- run: name --&gt;</c>: a spec pastes it into bash.</summary>
    Run,

    /// <summary><c>&lt;!-- output: name --&gt;</c>: what block <c>name</c> prints (<c>...</c> = any text).</summary>
    Output,

    /// <summary><c>&lt;!-- not run: reason --&gt;</c>: an example, not a command.</summary>
    NotRun,
}

/// <summary>One fenced code block of a markdown file, with the marker before it.</summary>
internal sealed record DocBlock(string File, int Line, DocBlockMarker Marker, string Label, string Text);

/// <summary>
/// Reads the fenced code blocks of the docs (README.md, docs/*.md, samples/*/README.md), so specs
/// run what the docs say, taken from the markdown itself, never from a copy.
/// </summary>
internal static partial class DocBlocks
{
    /// <summary>Markdown files, relative to the repository root, whose blocks must all be marked.</summary>
    public static IReadOnlyList<string> Files(string root) =>
        new[] { "README.md" }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Select(f => Path.GetRelativePath(root, f)))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "samples"), "README.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<DocBlock> Read(string root, string file)
    {
        var lines = System.IO.File.ReadAllLines(Path.Combine(root, file));
        var blocks = new List<DocBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var start = i;
            var end = Array.FindIndex(lines, start + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            if (end < 0)
            {
                throw new InvalidOperationException($"{file}:{start + 1}: code block is never closed");
            }

            var (marker, label) = MarkerBefore(lines, start);
            blocks.Add(new DocBlock(file, start + 1, marker, label, string.Join('\n', lines[(start + 1)..end]) + "\n"));
            i = end;
        }

        return blocks;
    }

    /// <summary>The block of <paramref name="file"/> marked <c>run: name</c> (or <c>output: name</c>).</summary>
    public static string Find(string root, string file, DocBlockMarker marker, string name)
    {
        var found = Read(root, file).Where(b => b.Marker == marker && b.Label == name).ToList();
        if (found.Count != 1)
        {
            throw new InvalidOperationException($"{file} has {found.Count} blocks marked {marker} '{name}', expected one");
        }

        return found[0].Text;
    }

    /// <summary>
    /// Whether <paramref name="actual"/> is what an output block promises: line by line, where
    /// <c>...</c> in the promise stands for any text.
    /// </summary>
    public static bool Matches(string promised, string actual) =>
        Regex.IsMatch(
            actual.Replace("\r", string.Empty, StringComparison.Ordinal).TrimEnd('\n'),
            "^" + string.Join("\n", promised.TrimEnd('\n').Split('\n').Select(l => string.Join(".*", l.Split("...").Select(Regex.Escape)))) + "$",
            RegexOptions.None,
            TimeSpan.FromSeconds(5));

    private static (DocBlockMarker Marker, string Label) MarkerBefore(string[] lines, int fence)
    {
        var before = fence - 1;
        if (before < 0 || MarkerLine().Match(lines[before]) is not { Success: true } match)
        {
            return (DocBlockMarker.None, string.Empty);
        }

        var label = match.Groups["label"].Value.Trim();
        return match.Groups["kind"].Value switch
        {
            "run" => (DocBlockMarker.Run, label),
            "output" => (DocBlockMarker.Output, label),
            _ => (DocBlockMarker.NotRun, label),
        };
    }

    [GeneratedRegex(@"^<!-- (?<kind>run|output|not run): (?<label>.+?) -->$")]
    private static partial Regex MarkerLine();
}
