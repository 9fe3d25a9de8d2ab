using System.Globalization;
using Fwatchdog.Configuration;
using Fwatchdog.Gateway.Functions;
using Fwatchdog.Hosting;

namespace Fwatchdog.Gateway;

/// <summary>The settings that need more than one parser call: the stack file, lists, secret files.</summary>
internal sealed partial record GatewayOptions
{
    private static IReadOnlyList<FunctionDefinition> ReadStackFile(SettingReader read, List<string> errors)
    {
        if (read.Raw(GatewaySettings.Config) is not var (path, source))
        {
            return [];
        }

        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            read.Fail(GatewaySettings.Config, path, source, "cannot be read (" + FileProblem.Describe(e, path) + ")");
            return [];
        }

        return StackFile.Parse(path, json, read.Raw(GatewaySettings.UpstreamTemplate) is not null, errors);
    }

    private static bool IsTemplate(string text) =>
        text.Contains("{name}", StringComparison.Ordinal)
        && Uri.TryCreate(text.Replace("{name}", "x", StringComparison.Ordinal).Replace("{namespace}", "y", StringComparison.Ordinal), UriKind.Absolute, out var uri)
        && uri.Scheme == "http";

    private static HashSet<int> ReadRetryCodes(SettingReader read)
    {
        var codes = new HashSet<int> { 429, 502, 503, 504 };
        if (read.Raw(GatewaySettings.RetryCodes) is not var (text, source))
        {
            return codes;
        }

        codes.Clear();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
            {
                codes.Add(code);
            }
            else
            {
                read.Fail(GatewaySettings.RetryCodes, text, source, $"\"{part}\" is not an HTTP status code");
            }
        }

        return codes;
    }

    private static byte[]? ReadSecretFile(SettingReader read)
    {
        if (read.Raw(GatewaySettings.CallbackSecretFile) is not var (path, source))
        {
            return null;
        }

        try
        {
            var secret = File.ReadAllText(path).Trim();
            if (secret.Length > 0)
            {
                return System.Text.Encoding.UTF8.GetBytes(secret);
            }

            read.Fail(GatewaySettings.CallbackSecretFile, path, source, "the file is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            read.Fail(GatewaySettings.CallbackSecretFile, path, source, "cannot be read (" + FileProblem.Describe(e, path) + ")");
        }

        return null;
    }

    private static (string, string)? ReadBasicAuth(SettingReader read)
    {
        if (!read.Boolean(GatewaySettings.BasicAuth, false))
        {
            return null;
        }

        var folder = read.Text(GatewaySettings.SecretMountPath, "/run/secrets/");
        string? ReadOne(string file)
        {
            var path = Path.Combine(folder, file);
            try
            {
                var value = File.ReadAllText(path).Trim();
                if (value.Length > 0)
                {
                    return value;
                }

                read.Fail(GatewaySettings.SecretMountPath, folder, "basic_auth=true", $"{path} is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                read.Fail(GatewaySettings.SecretMountPath, folder, "basic_auth=true", $"{path} cannot be read ({FileProblem.Describe(e, path)})");
            }

            return null;
        }

        var user = ReadOne("basic-auth-user");
        var password = ReadOne("basic-auth-password");
        return user is null || password is null ? null : (user, password);
    }

    private static void RequireAboveZero(SettingReader read, SettingDefinition setting, bool isZero)
    {
        if (isZero && read.Raw(setting) is var (text, source))
        {
            read.Fail(setting, text, source, "must be above zero");
        }
    }

    private static IReadOnlyList<string> DefaultWatchdogCommand()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == "fwatchdog")
        {
            return [self];
        }

        var apphost = Path.Combine(AppContext.BaseDirectory, "fwatchdog");
        return File.Exists(apphost) ? [apphost] : ["dotnet", Path.Combine(AppContext.BaseDirectory, "fwatchdog.dll")];
    }
}
