namespace Fwatchdog.Tests.Infrastructure;

/// <summary>A <see cref="RootFactAttribute"/> for a table of cases.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute(string why)
    {
        if (!RootFactAttribute.IsRoot)
        {
            Skip = "needs root: " + why;
        }
    }
}
