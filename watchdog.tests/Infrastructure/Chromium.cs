using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Fwatchdog.Tests.Infrastructure;

/// <summary>
/// Debian's headless Chromium driven by Debian's chromedriver (<c>apt-get install chromium
/// chromium-driver</c>; .ci/test installs them), one per spec class. Both paths are given, so
/// Selenium Manager never looks for a browser or driver on the network; the flags keep Chromium
/// from calling home (without them it floods a closed network) and work as root.
/// </summary>
public sealed class Chromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    /// <summary>Generous: a bound on a hang, never a measure of speed.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _profile = Directory.CreateTempSubdirectory("fwatchdog-chromium-").FullName;

    public Chromium()
    {
        if (!File.Exists(BrowserPath) || !File.Exists(DriverPath))
        {
            throw new InvalidOperationException($"the console's browser specs need {BrowserPath} and {DriverPath}: apt-get install -y chromium chromium-driver (bash .ci/test installs them)");
        }

        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath), Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1200,800", "--user-data-dir=" + _profile);
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().PageLoad = Patience;
        Driver.Manage().Timeouts().AsynchronousJavaScript = Patience;
        StartedProcesses.Track(Process.GetProcessById(service.ProcessId));
    }

    public ChromeDriver Driver { get; }

    /// <summary>Opens <paramref name="url"/> with a fresh tab state (sessionStorage is per tab and origin; a new gateway is a new origin).</summary>
    public void Open(Uri url) => Driver.Navigate().GoToUrl(url);

    /// <summary>Waits until <paramref name="find"/> gives an element for which <paramref name="ready"/> holds; fails with what the page showed.</summary>
    public IWebElement WaitFor(By find, Func<IWebElement, bool>? ready = null, string? because = null)
    {
        var wait = new WebDriverWait(Driver, Patience) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            return wait.Until(driver => driver.FindElement(find) is var found && (ready?.Invoke(found) ?? true) ? found : null)
                ?? throw new InvalidOperationException("WebDriverWait returned null");
        }
        catch (WebDriverTimeoutException)
        {
            throw new TimeoutException($"{find} did not appear{(because is null ? "" : " " + because)} within {Patience}; the page showed:\n{Driver.FindElement(By.TagName("body")).Text}");
        }
    }

    /// <summary>Waits for the element's text to contain <paramref name="text"/>.</summary>
    public IWebElement WaitForText(By find, string text) => WaitFor(find, e => e.Text.Contains(text, StringComparison.Ordinal), $"with \"{text}\"");

    /// <summary>Accepts the page's confirm() dialog.</summary>
    public void Confirm()
    {
        var wait = new WebDriverWait(Driver, Patience);
        wait.Until(driver =>
        {
            try
            {
                driver.SwitchTo().Alert().Accept();
                return true;
            }
            catch (NoAlertPresentException)
            {
                return false;
            }
        });
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; a temp folder left behind harms nothing.
        }
    }
}
