using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

// Usage: hello PORT. Answers "OK" on every path, as lean as Kestrel gets.
var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.ListenLocalhost(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture)));
var app = builder.Build();
app.Run(context => context.Response.WriteAsync("OK"));
app.Run();
