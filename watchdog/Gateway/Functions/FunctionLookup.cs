namespace Fwatchdog.Gateway.Functions;

/// <summary>What resolving a function name gave: a target, or why there is none.</summary>
internal readonly record struct FunctionLookup(FunctionTarget? Target, GatewayFailure Failure, string Detail)
{
    public static FunctionLookup Found(FunctionTarget target) => new(target, GatewayFailure.None, "");

    public static FunctionLookup NotFound(string detail) => new(null, GatewayFailure.FunctionNotFound, detail);

    /// <summary>
    /// The one answer for a templated name that does not resolve, resolves to a refused address
    /// or was refused when connecting: the same text for all, so the gateway is no DNS oracle.
    /// </summary>
    public static FunctionLookup DoesNotExist(string addressed) => NotFound(DoesNotExistText(addressed));

    public static string DoesNotExistText(string addressed) => $"function {addressed} does not exist";

    public static FunctionLookup NotReady(string detail) => new(null, GatewayFailure.FunctionNotReady, detail);
}
