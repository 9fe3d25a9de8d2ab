namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// The fast tier: classes marked <c>[Trait(Tier.Name, Tier.Fast)]</c> run with
/// <c>dotnet test --filter Tier=fast</c> in under a minute (docs/development.md). Unit tables and
/// specs on the watchdog or gateway in this process are marked; specs that start fwatchdog, python
/// or node servers, nats-server, namespaces or an AOT publish are not. A class is slow until it is
/// marked, so a new slow spec cannot land in the fast tier by being forgotten.
/// </summary>
internal static class Tier
{
    public const string Name = "Tier";

    public const string Fast = "fast";
}
