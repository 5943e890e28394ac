using System.Net;

namespace Gatehouse.Tuf.Client;

/// <summary>Where a client fetches repository files from.</summary>
public interface IRemoteFiles
{
    /// <summary>Fetches one file, reading at most <paramref name="maxLength"/> bytes of it.</summary>
    /// <param name="uri">The file.</param>
    /// <param name="maxLength">The most the file may hold; more is an endless-data attack.</param>
    /// <param name="ct">Cancels the fetch.</param>
    /// <returns>The file's bytes.</returns>
    /// <exception cref="TufException"><see cref="TufFailure.NotFound"/> when the repository does not have it,
    /// <see cref="TufFailure.TooLarge"/> past the limit, <see cref="TufFailure.Unreachable"/> otherwise.</exception>
    Task<byte[]> GetAsync(Uri uri, long maxLength, CancellationToken ct);
}

/// <summary>Fetches repository files over HTTP(S), stopping at the length limit whatever the server sends.</summary>
public sealed class HttpRemoteFiles : IRemoteFiles
{
    private readonly HttpClient http;

    /// <summary>Creates the fetcher.</summary>
    /// <param name="http">The client; its timeout bounds a slow server.</param>
    public HttpRemoteFiles(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        this.http = http;
    }

    /// <inheritdoc/>
    public async Task<byte[]> GetAsync(Uri uri, long maxLength, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(uri);
        try
        {
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                throw new TufException(TufFailure.NotFound, $"{uri} is not there ({(int)response.StatusCode})");
            }

            if (!response.IsSuccessStatusCode)
            {
                // A busy repository (429, 503) may say when to come back; the caller's poll honours it.
                var retryAfter = response.Headers.RetryAfter is { } header
                    ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                    : null;
                throw new TufException(TufFailure.Unreachable, $"{uri} answered {(int)response.StatusCode} {response.ReasonPhrase}") { RetryAfter = retryAfter };
            }

            if (response.Content.Headers.ContentLength > maxLength)
            {
                throw TooLarge(uri, maxLength);
            }

            await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            return await ReadAtMostAsync(body, uri, maxLength, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TufException(TufFailure.Unreachable, $"{uri}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new TufException(TufFailure.Unreachable, $"{uri}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TufException(TufFailure.Unreachable, $"{uri}: timed out", e);
        }
    }

    private static async Task<byte[]> ReadAtMostAsync(Stream body, Uri uri, long maxLength, CancellationToken ct)
    {
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        while (true)
        {
            var read = await body.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (read == 0)
            {
                return output.ToArray();
            }

            if (output.Length + read > maxLength)
            {
                throw TooLarge(uri, maxLength);
            }

            output.Write(buffer, 0, read);
        }
    }

    private static TufException TooLarge(Uri uri, long maxLength) =>
        new(TufFailure.TooLarge, $"{uri} is longer than the {maxLength} bytes it may be");
}
