namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// The fast tier runs with <c>dotnet test --filter Tier=fast</c> in under a minute
/// (docs/development.md). Unit tables and specs on the watchdog or gateway in this process derive
/// from <see cref="FastTier"/> (a spec class that already has a base class carries
/// <c>[Trait(Tier.Name, Tier.Fast)]</c> itself); specs that start fwatchdog, python or node
/// servers, nats-server, namespaces or an AOT publish do not. A class is slow until it is marked,
/// so a new slow spec cannot land in the fast tier by being forgotten.
/// </summary>
internal static class Tier
{
    public const string Name = "Tier";

    public const string Fast = "fast";
}

/// <summary>The base of a fast-tier class: xunit reads a base class's traits as the class's own.</summary>
[Trait(Tier.Name, Tier.Fast)]
public abstract class FastTier;
