using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Fwatchdog.Hosting;

namespace Fwatchdog.Tests.Hosting;

/// <summary>Call ids are random version 4 UUIDs, as Guid.NewGuid made them, whatever thread asks.</summary>
public sealed partial class UuidTests : FastTier
{
    [Fact]
    public void Ids_are_lowercase_version_4_uuids_with_the_rfc_variant()
    {
        for (var i = 0; i < 200; i++)
        {
            Version4().IsMatch(Uuid.NewV4()).Should().BeTrue();
        }
    }

    [Fact]
    public void Ids_do_not_repeat_across_batches_and_threads()
    {
        var ids = new ConcurrentBag<string>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 1000; i++)
            {
                ids.Add(Uuid.NewV4());
            }
        });

        ids.Should().HaveCount(8000).And.OnlyHaveUniqueItems();
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex Version4();
}
