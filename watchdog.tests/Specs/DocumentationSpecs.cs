using System.Text.RegularExpressions;
using Fwatchdog.Configuration;

namespace Fwatchdog.Tests.Specs;

public sealed partial class DocumentationSpecs : FastTier
{
    [Fact]
    public void The_watchdog_page_documents_every_setting()
    {
        var settings = Section(Page("docs/watchdog.md"), "## Settings");

        foreach (var setting in WatchdogSettings.All)
        {
            settings.Should().Contain($"| `{setting.Name}`", $"{setting.Name} needs a row in the settings table of docs/watchdog.md");
        }
    }

    [Fact]
    public void The_gateway_page_documents_every_gateway_setting_with_its_default()
    {
        var settings = Section(Page("docs/gateway.md"), "## Gateway settings");

        foreach (var setting in Fwatchdog.Gateway.GatewaySettings.All)
        {
            settings.Should().MatchRegex($@"\| `{setting.Name}`[^|]*\| `{Regex.Escape(setting.Default)}` \|", $"{setting.Name} needs a row in the settings table of docs/gateway.md");
        }
    }

    /// <summary>docs/security.md is a contract: each promise (a bullet under "## Promises") names the specs that hold it, and they exist.</summary>
    [Fact]
    public void Every_promise_in_the_security_page_names_specs_that_exist()
    {
        var promises = Section(Page("docs/security.md"), "## Promises");
        var bullets = Regex.Split(promises, @"\n(?=- )").Where(b => b.StartsWith("- ", StringComparison.Ordinal)).ToList();
        bullets.Should().HaveCountGreaterThan(10);
        var tests = typeof(DocumentationSpecs).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods().Where(m => m.GetCustomAttributes(typeof(FactAttribute), inherit: true).Length > 0).Select(m => (t, m)))
            .SelectMany(x => new[] { x.t.Name + "." + x.m.Name, (x.t.BaseType?.Name ?? "") + "." + x.m.Name })
            .ToHashSet(StringComparer.Ordinal);
        foreach (var bullet in bullets)
        {
            var named = SpecNames().Match(bullet);
            named.Success.Should().BeTrue($"the promise \"{bullet.Split('\n')[0]}\" needs \"(spec: Class.Method)\"");
            foreach (var spec in named.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))
            {
                tests.Should().Contain(spec, $"docs/security.md names {spec} for a promise");
            }
        }
    }

    [GeneratedRegex(@"\(specs?: ([A-Za-z0-9_.,\s]+)\)")]
    private static partial Regex SpecNames();

    [Fact]
    public void Every_relative_link_in_the_docs_names_an_existing_file_and_heading()
    {
        var root = RepositoryRoot();
        var broken = new List<string>();
        foreach (var file in DocBlocks.Files(root))
        {
            foreach (Match link in Link().Matches(WithoutCodeBlocks(Page(file))))
            {
                var target = link.Groups[1].Value;
                if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? target : target[..hash];
                var full = path.Length == 0 ? Path.Combine(root, file) : Path.GetFullPath(Path.Combine(root, Path.GetDirectoryName(file) ?? string.Empty, path));
                if (!File.Exists(full) && !Directory.Exists(full))
                {
                    broken.Add($"{file}: {target} (no such file)");
                }
                else if (hash >= 0 && !(File.Exists(full) && Anchors(File.ReadAllText(full)).Contains(target[(hash + 1)..])))
                {
                    broken.Add($"{file}: {target} (no such heading)");
                }
            }
        }

        broken.Should().BeEmpty();
    }

    [Fact]
    public void Every_code_block_in_the_docs_is_marked_run_output_or_not_run()
    {
        var root = RepositoryRoot();
        var blocks = DocBlocks.Files(root).SelectMany(file => DocBlocks.Read(root, file)).ToList();

        blocks.Where(b => b.Marker == DocBlockMarker.None).Select(b => $"{b.File}:{b.Line}")
            .Should().BeEmpty("every block needs <!-- run: name -->, <!-- output: name --> or <!-- not run: reason --> on the line before it");
        blocks.Where(b => b.Marker == DocBlockMarker.Output && !blocks.Any(r => r.File == b.File && r.Marker == DocBlockMarker.Run && r.Label == b.Label))
            .Select(b => $"{b.File}:{b.Line}").Should().BeEmpty("an output block belongs to a run block of the same file");
        blocks.Where(b => b.Marker == DocBlockMarker.Run).Select(b => $"{b.File}#{b.Label}")
            .Should().BeEquivalentTo(DocumentedCommandSpecs.RunBlocks(root), "a block marked run is run by DocumentedCommandSpecs, and only such blocks");
    }

    [Theory]
    [InlineData("3\nlater\n", "3\nlater\n", true)]
    [InlineData("{\"callId\":\"...\",\"state\":\"succeeded\",...}\n", "{\"callId\":\"f1-2\",\"state\":\"succeeded\",\"attempts\":1}\n", true)]
    [InlineData("{\"callId\":\"...\",\"state\":\"succeeded\",...}\n", "{\"callId\":\"f1-2\",\"state\":\"queued\",\"attempts\":0}\n", false)]
    [InlineData("3\n", "", false)]
    [InlineData("3\n", "3\n4\n", false)]
    [InlineData("a.b\n", "axb\n", false)]
    public void An_output_block_matches_line_by_line_with_dots_for_any_text(string promised, string actual, bool matches) =>
        DocBlocks.Matches(promised, actual).Should().Be(matches);

    [Fact]
    public void No_documented_command_needs_curl_7_84_or_later()
    {
        var root = RepositoryRoot();

        // curl before 7.84 prints `%header{location}` unexpanded and the quick start failed silently.
        DocBlocks.Files(root).SelectMany(file => DocBlocks.Read(root, file))
            .Where(b => b.Text.Contains("%header{", StringComparison.Ordinal) || b.Text.Contains("%{header_json}", StringComparison.Ordinal))
            .Select(b => $"{b.File}:{b.Line}").Should().BeEmpty();
    }

    [Fact]
    public void The_readme_test_command_is_what_ci_runs()
    {
        var root = RepositoryRoot();
        var blocks = DocBlocks.Read(root, "README.md").ToList();
        var setup = blocks.FindIndex(b => b.Marker == DocBlockMarker.Run && b.Label == "setup");
        var tests = blocks[setup + 1];
        var test = tests.Text.Split('\n')[0].Split('#')[0].Trim();

        tests.Marker.Should().Be(DocBlockMarker.NotRun, "the test command is the block after the set-up block, for another terminal");
        test.Should().Be("bash .ci/test");
        File.ReadAllText(Path.Combine(root, ".ci", "run")).Should().Contain("\n" + test + " ", ".ci/run runs the README's test command");
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Watchdog.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Watchdog.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.</summary>
    internal static HashSet<string> Anchors(string markdown) =>
        WithoutCodeBlocks(markdown).Split('\n')
            .Where(l => l.StartsWith('#'))
            .Select(l => Regex.Replace(l.TrimStart('#').Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd} _-]", string.Empty).Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    private static string Page(string relative) => File.ReadAllText(Path.Combine(RepositoryRoot(), relative));

    private static string Section(string page, string heading)
    {
        var start = page.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        start.Should().BeGreaterThan(0, $"the page has a section {heading}");
        var end = page.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? page[start..] : page[start..end];
    }

    private static string WithoutCodeBlocks(string markdown) => CodeBlock().Replace(markdown, string.Empty);

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^```.*?^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CodeBlock();
}
