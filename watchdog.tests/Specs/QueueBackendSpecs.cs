namespace Fwatchdog.Tests.Specs;

/// <summary>
/// Base of the spec suites that run once per queue backend: each concrete class says which
/// settings pick its backend, and every gateway a spec starts gets them.
/// </summary>
public abstract class QueueBackendSpecs
{
    /// <summary>Extra gateway settings that pick the queue backend.</summary>
    private protected abstract Dictionary<string, string> Backend();

    private protected Task<TestGateway> StartAsync(string stack, IReadOnlyDictionary<string, string>? settings = null)
    {
        var merged = Backend();
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            merged[key] = value;
        }

        return TestGateway.StartAsync(stack, merged);
    }
}
