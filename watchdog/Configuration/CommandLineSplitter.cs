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
        var word = new StringBuilder();
        var inWord = false;
        words = result;
        error = "";
        for (var i = 0; i < commandLine.Length;)
        {
            if (char.IsWhiteSpace(commandLine[i]))
            {
                EndWord(result, word, ref inWord);
                i++;
                continue;
            }

            inWord = true;
            i = ReadPart(commandLine, i, word, out error);
            if (i < 0)
            {
                return false;
            }
        }

        EndWord(result, word, ref inWord);
        return true;
    }

    private static void EndWord(List<string> words, StringBuilder word, ref bool inWord)
    {
        if (inWord)
        {
            words.Add(word.ToString());
            word.Clear();
            inWord = false;
        }
    }

    /// <summary>Appends one piece of a word: a '…' or "…" string, an escaped character or a plain one. Returns the index after it, or -1 and the error.</summary>
    private static int ReadPart(string line, int at, StringBuilder word, out string error)
    {
        error = "";
        switch (line[at])
        {
            case '\'':
                return ReadSingleQuoted(line, at, word, out error);
            case '"':
                return ReadDoubleQuoted(line, at, word, out error);
            case '\\' when at + 1 >= line.Length:
                error = "trailing backslash";
                return -1;
            case '\\':
                word.Append(line[at + 1]);
                return at + 2;
            default:
                word.Append(line[at]);
                return at + 1;
        }
    }

    /// <summary>'…' is literal to the next single quote.</summary>
    private static int ReadSingleQuoted(string line, int at, StringBuilder word, out string error)
    {
        error = "";
        var close = line.IndexOf('\'', at + 1);
        if (close < 0)
        {
            error = $"unterminated single quote at position {at + 1}";
            return -1;
        }

        word.Append(line, at + 1, close - at - 1);
        return close + 1;
    }

    /// <summary>"…" runs to the next unescaped double quote; a backslash escapes only \" \\ \$ and \`.</summary>
    private static int ReadDoubleQuoted(string line, int at, StringBuilder word, out string error)
    {
        error = "";
        for (var i = at + 1; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
            {
                return i + 1;
            }

            if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
            {
                i++;
                c = line[i];
            }

            word.Append(c);
        }

        error = "unterminated double quote";
        return -1;
    }
}
