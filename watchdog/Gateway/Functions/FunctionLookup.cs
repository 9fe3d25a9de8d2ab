namespace Fwatchdog.Gateway.Functions;

/// <summary>What resolving a function name gave: a target, or why there is none.</summary>
internal readonly record struct FunctionLookup(FunctionTarget? Target, GatewayFailure Failure, string Detail)
{
    public static FunctionLookup Found(FunctionTarget target) => new(target, GatewayFailure.None, "");

    public static FunctionLookup NotFound(string detail) => new(null, GatewayFailure.FunctionNotFound, detail);

    public static FunctionLookup NotReady(string detail) => new(null, GatewayFailure.FunctionNotReady, detail);
}
