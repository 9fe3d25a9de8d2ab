using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Fwatchdog.Server.StaticMode;

/// <summary>
/// mode=static: the files under <c>static_path</c> through ASP.NET Core's static file support
/// (content types, ETag and Last-Modified, ranges, HEAD), index.html for a folder. The file
/// provider refuses any path that leaves the folder (<c>..</c>, encoded or not) with a 404.
/// Unknown extensions are served as application/octet-stream, like the of-watchdog's Go file server.
/// </summary>
internal static class StaticSite
{
    public static void Use(IApplicationBuilder app, string folder, Func<HttpContext, bool> isSite)
    {
        var files = new PhysicalFileProvider(folder);
        app.UseWhen(isSite, site =>
        {
            site.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, DefaultFileNames = ["index.html"] });
            site.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                ServeUnknownFileTypes = true,
                DefaultContentType = "application/octet-stream",
            });
        });
    }

    /// <summary>What a path that names no file gets.</summary>
    public static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers[WatchdogHeaders.Reason] = "not-found";
        return context.Response.WriteAsync("no such file\n");
    }
}
