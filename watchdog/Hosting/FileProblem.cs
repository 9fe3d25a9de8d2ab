namespace Fwatchdog.Hosting;

/// <summary>
/// Says in words what went wrong with a file or folder, from the exception's type and errno rather
/// than its message, which repeats the path and reads differently per runtime build (with
/// UseSystemResourceKeys it was a bare key such as <c>IO_PathNotFound_Path</c>).
/// </summary>
internal static class FileProblem
{
    /// <param name="error">What the file system call threw.</param>
    /// <param name="path">The file (or folder, with <paramref name="folder"/>) it was about.</param>
    /// <param name="folder">True when <paramref name="path"/> is meant to be a folder.</param>
    public static string Describe(Exception error, string path, bool folder = false) => error switch
    {
        FileNotFoundException => "no such file",
        DirectoryNotFoundException => "a folder on the way to it does not exist, or is a file",
        UnauthorizedAccessException when !folder && Directory.Exists(path) => "is a folder, not a file",
        UnauthorizedAccessException => "permission denied (or the file system refuses writes)",
        PathTooLongException => "the path is too long",
        IOException io => Errno(io.HResult) ?? "input/output error",
        _ => error.GetType().Name,
    };

    /// <summary>On Unix an IOException's HResult carries the errno for the common cases.</summary>
    private static string? Errno(int hresult) => hresult switch
    {
        1 or 13 => "permission denied",
        2 => "no such file or folder",
        17 => "already exists",
        20 => "a part of the path is a file, not a folder",
        21 => "is a folder, not a file",
        28 => "no space left on the device",
        30 => "the file system is read-only",
        _ => null,
    };
}
