namespace Fwatchdog.Gateway.Queue;

/// <summary>
/// Round-robin across functions for the workers: of the calls that could be claimed, each
/// function's first comes before any function's second, and among those the function served
/// longest ago (or never) goes first. One function's backlog thus delays another function's call
/// by at most one claim per function, not by the backlog.
/// </summary>
internal sealed class FairTurns
{
    private readonly Dictionary<string, long> _served = new(StringComparer.Ordinal);
    private long _turn;

    /// <summary>Orders <paramref name="candidates"/>, given oldest first, into the order they should be claimed in.</summary>
    public List<T> Order<T>(IEnumerable<T> candidates, Func<T, string> function)
    {
        var places = new Dictionary<string, int>(StringComparer.Ordinal);
        var ranked = new List<(T Item, int Place, long Served, int Index)>();
        lock (_served)
        {
            foreach (var candidate in candidates)
            {
                var name = function(candidate);
                var place = places.GetValueOrDefault(name);
                places[name] = place + 1;
                ranked.Add((candidate, place, _served.GetValueOrDefault(name), ranked.Count));
            }
        }

        return ranked.OrderBy(r => r.Place).ThenBy(r => r.Served).ThenBy(r => r.Index).Select(r => r.Item).ToList();
    }

    /// <summary>Orders function names: served longest ago (or never) first.</summary>
    public List<string> Order(IEnumerable<string> functions) => Order(functions, f => f);

    /// <summary>A call of <paramref name="function"/> was claimed: it goes to the back of the line.</summary>
    public void Served(string function)
    {
        lock (_served)
        {
            _served[function] = ++_turn;
        }
    }
}
