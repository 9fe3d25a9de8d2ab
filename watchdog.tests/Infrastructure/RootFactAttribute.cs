namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// A spec that needs root (namespaces, mounts, chattr): skipped, with <c>needs root:</c> and the
/// reason, when the test host is not root, instead of failing on a permission error.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RootFactAttribute : FactAttribute
{
    /// <param name="why">What the spec does that only root may, e.g. "unshare --pid".</param>
    public RootFactAttribute(string why)
    {
        if (!IsRoot)
        {
            Skip = "needs root: " + why;
        }
    }

    /// <summary>Whether the effective user id (the second field of /proc/self/status's Uid: line) is 0.</summary>
    public static bool IsRoot { get; } = File.ReadLines("/proc/self/status")
        .Where(line => line.StartsWith("Uid:", StringComparison.Ordinal))
        .Select(line => line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2])
        .SingleOrDefault() == "0";
}
