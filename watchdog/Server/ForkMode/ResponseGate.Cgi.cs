using Fwatchdog.Execution;

namespace Fwatchdog.Server.ForkMode;

/// <summary>The cgi_response part of the gate: peel a header block off the front of stdout.</summary>
internal sealed partial class ResponseGate
{
    private string _cgiError = "";

    private void TryCompleteCgiBlock(bool endOfOutput)
    {
        var data = _pending.AsSpan(0, _pendingLength);
        var firstLineEnd = data.IndexOf((byte)'\n');
        var firstLine = firstLineEnd < 0 ? data : data[..firstLineEnd];
        if ((firstLineEnd >= 0 || endOfOutput || data.Length > CgiHeaderBlock.MaxLength) && !LooksLikeHeader(firstLine))
        {
            _cgiPending = false; // "may begin with" headers: this output does not, so it is all body
            return;
        }

        var end = CgiHeaderBlock.FindEnd(data);
        if (end == 0 && endOfOutput)
        {
            end = data.Length; // headers only, e.g. printf 'Status: 204\n'
        }

        if (end == 0)
        {
            return;
        }

        if (end < 0 || !CgiHeaderBlock.TryParse(data[..Math.Max(end, 0)], out var block, out _cgiError))
        {
            if (end < 0)
            {
                _cgiError = $"the CGI header block is longer than {CgiHeaderBlock.MaxLength} bytes or has no blank line after it";
            }

            _cgiError = "cgi_response: malformed header block from the function: " + _cgiError;
            _cgiPending = false;
            _broken = true;
            _abort.Trigger(FunctionOutcome.BadCgiResponse);
            return;
        }

        _cgi = block;
        _cgiPending = false;
        data[end..].CopyTo(_pending);
        _pendingLength -= end;
    }

    private static bool LooksLikeHeader(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        foreach (var b in line[..colon])
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_'))
            {
                return false;
            }
        }

        return true;
    }
}
