using Fwatchdog.Native;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace Fwatchdog.Server.StaticMode;

/// <summary>
/// The files of <c>static_path</c>, and nothing a symlink in it leads to outside it. The physical
/// provider refuses <c>..</c> but follows symlinks anywhere, and reports a link's own length (so a
/// file served through one was cut short). Here every file and folder is resolved to its real path
/// (realpath(3)): outside the real <c>static_path</c> it does not exist; inside, it is the target
/// itself that is served, with its own length, dates and ETag. A file named as a folder
/// (<c>/style.css/</c>) does not exist either.
/// </summary>
internal sealed class ContainedFileProvider : IFileProvider
{
    private readonly PhysicalFileProvider _files;
    private readonly string _folder;
    private readonly string _realFolder;

    public ContainedFileProvider(string folder)
    {
        _files = new PhysicalFileProvider(folder);
        _folder = _files.Root;

        // static_path itself may be a symlink (a mounted volume, /home/app/public -> /data/site): that is where the site is.
        _realFolder = Libc.RealPath(folder) ?? Path.GetFullPath(folder);
    }

    public IFileInfo GetFileInfo(string subpath)
    {
        var info = _files.GetFileInfo(subpath);
        if (!info.Exists || info.PhysicalPath is not { } path)
        {
            return info;
        }

        if (Resolve(path) is not { } real || Directory.Exists(real))
        {
            return new NotFoundFileInfo(subpath);
        }

        return real == path ? info : new PhysicalFileInfo(new FileInfo(real));
    }

    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        var contents = _files.GetDirectoryContents(subpath);
        return contents.Exists && Resolve(Path.Join(_folder, subpath.TrimStart('/'))) is null ? NotFoundDirectoryContents.Singleton : contents;
    }

    public IChangeToken Watch(string filter) => _files.Watch(filter);

    /// <summary>The real path of <paramref name="path"/> when it lies inside the real static_path, else null.</summary>
    private string? Resolve(string path)
    {
        var real = Libc.RealPath(path);
        return real is not null && (real == _realFolder || real.StartsWith(_realFolder.TrimEnd('/') + "/", StringComparison.Ordinal)) ? real : null;
    }
}
