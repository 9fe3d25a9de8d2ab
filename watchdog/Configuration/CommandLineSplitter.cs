using System.Text;

namespace Fwatchdog.Configuration;

/// <summary>
/// Splits <c>fprocess</c> into argv with shell-like quoting, without running a shell:
/// whitespace separates words, '…' is literal, "…" honours \" \\ \$ \`, and a backslash
/// outside quotes escapes the next character. The classic watchdog splits on single spaces
/// only, so <c>python3 -c "print(1)"</c> breaks there; here it works.
/// </summary>
internal static class CommandLineSplitter
{
    public static bool TrySplit(string commandLine, out IReadOnlyList<string> words, out string error)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        var i = 0;
        error = "";
        words = result;

        while (i < commandLine.Length)
        {
            var c = commandLine[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                i++;
                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = commandLine.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        error = $"unterminated single quote at position {i + 1}";
                        return false;
                    }

                    current.Append(commandLine, i + 1, close - i - 1);
                    i = close + 1;
                    break;
                case '"':
                    i++;
                    while (true)
                    {
                        if (i >= commandLine.Length)
                        {
                            error = "unterminated double quote";
                            return false;
                        }

                        var d = commandLine[i];
                        if (d == '"')
                        {
                            i++;
                            break;
                        }

                        if (d == '\\' && i + 1 < commandLine.Length && commandLine[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            current.Append(commandLine[i + 1]);
                            i += 2;
                            continue;
                        }

                        current.Append(d);
                        i++;
                    }

                    break;
                case '\\':
                    if (i + 1 >= commandLine.Length)
                    {
                        error = "trailing backslash";
                        return false;
                    }

                    current.Append(commandLine[i + 1]);
                    i += 2;
                    break;
                default:
                    current.Append(c);
                    i++;
                    break;
            }
        }

        if (inWord)
        {
            result.Add(current.ToString());
        }

        return true;
    }
}
