using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace Fwatchdog.Server.StaticMode;

/// <summary>
/// mode=static: the files under <c>static_path</c> through ASP.NET Core's static file support
/// (content types, ETag and Last-Modified, ranges, HEAD), index.html for a folder. The file
/// provider refuses any path that leaves the folder (<c>..</c>, encoded or not, or a symlink
/// that leads out of it) with a 404 (<see cref="ContainedFileProvider"/>).
/// Unknown extensions are served as application/octet-stream, like the of-watchdog's Go file server.
/// </summary>
internal static class StaticSite
{
    public static void Use(IApplicationBuilder app, string folder, Func<HttpContext, bool> isSite)
    {
        var files = new ContainedFileProvider(folder);
        app.UseWhen(isSite, site =>
        {
            site.Use(RefuseControlCharacters);
            site.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, DefaultFileNames = ["index.html"] });
            site.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                ServeUnknownFileTypes = true,
                DefaultContentType = "application/octet-stream",
            });
        });
    }

    /// <summary>400 for a control character in the target or a header value, as in the other modes (<see cref="RequestTextProblem"/>).</summary>
    private static Task RefuseControlCharacters(HttpContext context, RequestDelegate next)
    {
        if (RequestTextProblem.Find(context) is not { } problem)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers[WatchdogHeaders.Reason] = problem.InTarget ? "bad-path" : "bad-header";
        return context.Response.WriteAsync(problem.Message + "\n");
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
