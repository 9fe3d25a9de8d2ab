using System.Reflection;
using System.Runtime.InteropServices;

namespace Fwatchdog.Gateway.OpenFaasApi;

/// <summary>
/// GET /system/info: the provider is fwatchdog itself, its release the build's version and its sha
/// the commit it was built from (the informational version's <c>+sha</c> suffix), or "unknown".
/// </summary>
internal static class SystemInfo
{
    public const string Provider = "fwatchdog";
    public const string Orchestration = "stack-file";

    public static GatewayInfoBody Describe()
    {
        var informational = typeof(SystemInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0
            ? new VersionInfoBody("unknown", informational)
            : new VersionInfoBody(informational[(plus + 1)..], informational[..plus]);
        return new GatewayInfoBody(new ProviderInfoBody(Provider, version, Orchestration), version, Arch(RuntimeInformation.ProcessArchitecture));
    }

    /// <summary>The architecture as the OpenFaaS gateway names it.</summary>
    internal static string Arch(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "armhf",
        _ => architecture.ToString().ToLowerInvariant(),
    };
}
