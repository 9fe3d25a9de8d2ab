namespace Fwatchdog.Gateway.Functions;

/// <summary>
/// The OpenFaaS name grammar <c>[-a-zA-Z_0-9.]+</c>; <c>name.namespace</c> splits at the last dot
/// (as the OpenFaaS gateway does), so <c>dev.figlet.openfaas-fn</c> is <c>dev.figlet</c> in <c>openfaas-fn</c>.
/// </summary>
internal static class FunctionName
{
    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 253)
        {
            return false;
        }

        var letters = false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }

            letters |= c != '.';
        }

        // "." and ".." are path segments, not names.
        return letters;
    }

    /// <summary>Splits <c>name.namespace</c> at the last dot; no dot gives the default namespace.</summary>
    public static (string Name, string Namespace) Split(string full, string defaultNamespace)
    {
        var dot = full.LastIndexOf('.');
        return dot <= 0 || dot == full.Length - 1 ? (full, defaultNamespace) : (full[..dot], full[(dot + 1)..]);
    }
}
