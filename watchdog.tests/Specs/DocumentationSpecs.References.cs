using System.Text.RegularExpressions;

namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Pointers into the docs from outside them (help text, error messages, comments in the files a
/// user copies) lead to a page that exists and a heading it has.
/// </summary>
public sealed partial class DocumentationSpecs
{
    private static readonly string[] ShippedFolders = ["samples", "deploy"];

    [Fact(Timeout = 60_000)]
    public async Task Every_doc_reference_in_help_error_messages_and_shipped_files_names_an_existing_page_and_heading()
    {
        var root = RepositoryRoot();
        var texts = new List<(string Where, string Text)>
        {
            ("fwatchdog --help", (await WatchdogProcess.RunAsync(new Dictionary<string, string>(), "--help")).Output),
            ("fwatchdog gateway --help", (await WatchdogProcess.RunAsync(new Dictionary<string, string>(), "gateway", "--help")).Output),
            ("Dockerfile.template", File.ReadAllText(Path.Combine(root, "Dockerfile.template"))),
        };
        texts.AddRange(Directory.EnumerateFiles(Path.Combine(root, "watchdog"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal))
            .Where(f => !InBuildOutput(root, f))
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))));
        texts.AddRange(ShippedFolders.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))));

        var found = texts.SelectMany(t => Broken(root, t.Where, t.Text)).ToList();

        texts.Select(t => t.Text).Should().Contain(t => DocReference().IsMatch(t), "the collection must see the references it checks");
        string.Join("\n", found).Should().BeEmpty("a pointer into the docs names the page from the repository root, and a heading of it after #, e.g. docs/watchdog.md#settings");
    }

    [Theory]
    [InlineData("see docs/watchdog.md#settings", "")]
    [InlineData("see docs/watchdog.md", "")]
    [InlineData("(README.md#quick-start)", "")]
    [InlineData("see docs/watchdog.md#no-such-heading", "docs/watchdog.md#no-such-heading (no such heading)")]
    [InlineData("see docs/nowhere.md", "docs/nowhere.md (no such page)")]
    [InlineData("its limits (README: Settings)", "README (names no page; write README.md or docs/<page>.md#<heading>)")]
    [InlineData("see https://example.com/docs/nowhere.md", "")]
    public void A_doc_reference_is_broken_when_its_page_or_heading_is_missing_or_it_names_no_page(string text, string broken) =>
        string.Join("; ", Broken(RepositoryRoot(), "t", text).Select(b => b[3..])).Should().Be(broken);

    private static IEnumerable<string> Broken(string root, string where, string text)
    {
        foreach (Match bare in BareReadme().Matches(text))
        {
            yield return $"{where}: {bare.Value} (names no page; write README.md or docs/<page>.md#<heading>)";
        }

        foreach (Match reference in DocReference().Matches(text))
        {
            var page = Path.Combine(root, reference.Groups["page"].Value);
            if (!File.Exists(page))
            {
                yield return $"{where}: {reference.Value} (no such page)";
            }
            else if (reference.Groups["anchor"].Success && !Anchors(File.ReadAllText(page)).Contains(reference.Groups["anchor"].Value))
            {
                yield return $"{where}: {reference.Value} (no such heading)";
            }
        }
    }

    private static bool InBuildOutput(string root, string file) =>
        Path.GetRelativePath(Path.Combine(root, "watchdog"), file).Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj";

    /// <summary>README.md, BENCHMARKS.md or docs/page.md, with an optional #heading; not part of a URL.</summary>
    [GeneratedRegex(@"(?<![\w/.-])(?<page>README\.md|BENCHMARKS\.md|docs/[A-Za-z0-9_-]+\.md)(?:#(?<anchor>[A-Za-z0-9_-]+))?")]
    private static partial Regex DocReference();

    /// <summary>"README" alone: a pointer that names neither the page nor the heading.</summary>
    [GeneratedRegex(@"(?<![\w/.-])README(?!\.md)\b")]
    private static partial Regex BareReadme();
}
