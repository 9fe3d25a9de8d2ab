namespace Fwatchdog.Gateway.Queue;

/// <summary>Per-function concurrency: a claim takes a slot first and gives it back if the claim fails.</summary>
internal interface ISlotBook
{
    bool TryTake(string function);

    void Give(string function);
}
