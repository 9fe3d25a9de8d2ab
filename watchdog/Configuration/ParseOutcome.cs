namespace Fwatchdog.Configuration;

/// <summary>Either parsed options or every error found while parsing them.</summary>
internal sealed record ParseOutcome<T>(T? Value, IReadOnlyList<string> Errors)
    where T : class
{
    public static ParseOutcome<T> Success(T value) => new(value, []);

    public static ParseOutcome<T> Failure(IReadOnlyList<string> errors) => new(null, errors);
}
