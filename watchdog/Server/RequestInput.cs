using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Fwatchdog.Execution;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Fwatchdog.Server;

/// <summary>
/// Feeds the request body to the child's stdin as it arrives (never the whole body in memory),
/// under <c>read_timeout</c>. A child that stops reading its input is normal: the broken pipe is
/// swallowed and the call goes on. With <c>marshal_request</c> the body is wrapped, still
/// streaming, in the classic JSON envelope.
/// </summary>
internal sealed class RequestInput(HttpRequest request, CallAbort abort, TimeSpan readTimeout, bool marshal)
{
    private const int ChunkSize = 64 * 1024;

    public long BytesRead { get; private set; }

    public async Task WriteAsync(Stream stdin, CancellationToken cancellationToken)
    {
        using var deadline = readTimeout > TimeSpan.Zero ? new CancellationTokenSource(readTimeout) : null;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abort.Token, deadline?.Token ?? CancellationToken.None);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] encoded = marshal ? ArrayPool<byte>.Shared.Rent(Base64.GetMaxEncodedToUtf8Length(ChunkSize + 2)) : [];
        var carry = 0;
        try
        {
            if (marshal)
            {
                await stdin.WriteAsync(MarshalPrefix(request), cancellationToken);
            }

            while (true)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(carry, ChunkSize - carry), reading.Token);
                }
                catch (OperationCanceledException) when (deadline?.IsCancellationRequested == true)
                {
                    abort.Trigger(FunctionOutcome.ReadTimedOut);
                    return;
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    abort.Trigger(FunctionOutcome.BodyTooLarge);
                    return;
                }
                catch (Exception ex) when (ex is IOException or BadHttpRequestException or ConnectionResetException)
                {
                    abort.Trigger(FunctionOutcome.ClientGone);
                    return;
                }

                BytesRead += read;
                if (!marshal)
                {
                    if (read == 0)
                    {
                        return;
                    }

                    await stdin.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    continue;
                }

                var final = read == 0;
                var available = carry + read;
                Base64.EncodeToUtf8(buffer.AsSpan(0, available), encoded, out var consumed, out var written, isFinalBlock: final);
                await stdin.WriteAsync(encoded.AsMemory(0, written), cancellationToken);
                carry = available - consumed;
                buffer.AsSpan(consumed, carry).CopyTo(buffer);
                if (final)
                {
                    await stdin.WriteAsync("\"}}"u8.ToArray(), cancellationToken);
                    return;
                }
            }
        }
        catch (IOException)
        {
            // EPIPE: the process exited or closed stdin before reading everything. Not an error:
            // plenty of functions never read their input (the classic watchdog agrees).
        }
        catch (OperationCanceledException)
        {
            // The run ended (the runner cancels stdin piping once the process exits) or was aborted.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (encoded.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(encoded);
            }
        }
    }

    private static byte[] MarshalPrefix(HttpRequest request)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartObject("header");
            foreach (var (name, values) in request.Headers)
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                json.WriteStartArray(CanonicalHeaderName(name));
                foreach (var value in values)
                {
                    json.WriteStringValue(HeaderText.FromBytes(value ?? ""));
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteStartObject("body");
            json.WriteString("raw", "");
            json.Flush();
        }

        // Reopen the empty "raw" string so the base64 body can stream into it.
        stream.SetLength(stream.Length - 1);
        return stream.ToArray();
    }

    private static string CanonicalHeaderName(string name) =>
        string.Create(name.Length, name, static (span, source) =>
        {
            var upper = true;
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = upper ? char.ToUpperInvariant(source[i]) : char.ToLowerInvariant(source[i]);
                upper = source[i] == '-';
            }
        });
}
