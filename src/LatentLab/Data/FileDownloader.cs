using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LatentLab.Data;

/// <summary>
/// Fetches published files into a cache folder: resumes interrupted downloads with HTTP range requests, checks the
/// SHA-256, and only then renames the file into place, so the cache never holds a partial or corrupt file under
/// its real name. A file already in the cache is verified once and then reused.
/// </summary>
public sealed partial class FileDownloader
{
    private const string PartialSuffix = ".partial";
    private const string VerifiedSuffix = ".sha256";
    private static readonly HttpClient SharedClient = new() { Timeout = TimeSpan.FromMinutes(30) };

    private readonly HttpClient _client;
    private readonly ILogger _logger;

    /// <summary>Creates a downloader; without a client, a shared one is used.</summary>
    public FileDownloader(HttpClient? client = null, ILoggerFactory? loggerFactory = null)
    {
        _client = client ?? SharedClient;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FileDownloader>();
    }

    /// <summary>
    /// Returns the path of <paramref name="file"/> in <paramref name="directory"/>, downloading and verifying it
    /// first if needed.
    /// </summary>
    /// <exception cref="DownloadException">
    /// No address answered, or the bytes failed the checksum; the message says where to place the file by hand.
    /// </exception>
    public async Task<string> FetchAsync(RemoteFile file, string directory, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(directory);
        if (file.FileName != Path.GetFileName(file.FileName) || file.FileName.Length == 0)
            throw new ArgumentException($"'{file.FileName}' is not a plain file name.", nameof(file));

        string target = Path.Combine(directory, file.FileName);
        if (File.Exists(target))
        {
            if (await IsVerifiedAsync(target, file.Sha256, cancellationToken).ConfigureAwait(false)) return target;
            throw new DownloadException(
                $"{target} is in the cache but its SHA-256 is not {file.Sha256}; delete it so it can be fetched again.");
        }

        Directory.CreateDirectory(directory);
        var failures = new List<string>();
        foreach (Uri url in file.Urls)
        {
            try
            {
                await DownloadAsync(url, target + PartialSuffix, file.FileName, progress, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception error) when (error is HttpRequestException or IOException
                                              || (error is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                LogMirrorFailed(url, error.Message);
                failures.Add($"{url.Host}: {error.Message}");
                continue;
            }

            string actual = await HashAsync(target + PartialSuffix, cancellationToken).ConfigureAwait(false);
            if (!actual.Equals(file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(target + PartialSuffix);
                failures.Add($"{url.Host}: SHA-256 {actual} instead of {file.Sha256}");
                continue;
            }
            File.Move(target + PartialSuffix, target, overwrite: true);
            await WriteMarkerAsync(target, actual, cancellationToken).ConfigureAwait(false);
            LogDownloaded(file.FileName, target);
            return target;
        }

        throw new DownloadException(
            $"could not download {file.FileName} ({string.Join("; ", failures)}); without network access, place the " +
            $"file at {target} (SHA-256 {file.Sha256}).");
    }

    private async Task DownloadAsync(Uri url, string partialPath, string fileName,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long resumeFrom = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (resumeFrom > 0) request.Headers.Range = new RangeHeaderValue(resumeFrom, null);

        using HttpResponseMessage response = await _client
            .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && resumeFrom > 0)
        {
            // The partial file is already complete (or longer than the file): let the checksum decide.
            return;
        }
        response.EnsureSuccessStatusCode();

        // 206 continues the partial file; a 200 means the server ignored the range, so start over.
        bool resuming = response.StatusCode == HttpStatusCode.PartialContent && resumeFrom > 0;
        if (resuming) LogResuming(fileName, resumeFrom);
        long done = resuming ? resumeFrom : 0;
        long? total = response.Content.Headers.ContentLength is { } length ? length + done : null;

        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var output = new FileStream(partialPath, resuming ? FileMode.Append : FileMode.Create,
            FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            done += read;
            progress?.Report(new DownloadProgress(fileName, done, total));
        }
        if (total is { } expected && done != expected)
            throw new IOException($"connection closed after {done} of {expected} bytes");
    }

    /// <summary>
    /// Whether a cached file has the expected hash. The hash is computed once and remembered in a marker file
    /// together with the file's size and time, so later runs do not re-read large archives.
    /// </summary>
    private static async Task<bool> IsVerifiedAsync(string path, string sha256, CancellationToken cancellationToken)
    {
        string marker = path + VerifiedSuffix;
        string stamp = Stamp(path, sha256);
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false)).Trim() == stamp)
            return true;
        string actual = await HashAsync(path, cancellationToken).ConfigureAwait(false);
        if (!actual.Equals(sha256, StringComparison.OrdinalIgnoreCase)) return false;
        await WriteMarkerAsync(path, actual, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static Task WriteMarkerAsync(string path, string sha256, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path + VerifiedSuffix, Stamp(path, sha256), cancellationToken);

    private static string Stamp(string path, string sha256)
    {
        var info = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture,
            $"{sha256.ToLowerInvariant()} {info.Length} {info.LastWriteTimeUtc.Ticks}");
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static async Task<string> HashAsync(string path, CancellationToken cancellationToken = default)
    {
        await using FileStream stream = File.OpenRead(path);
        byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Downloaded {FileName} to {Path}")]
    private partial void LogDownloaded(string fileName, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Resuming {FileName} from byte {Offset}")]
    private partial void LogResuming(string fileName, long offset);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Download from {Url} failed: {Reason}")]
    private partial void LogMirrorFailed(Uri url, string reason);
}
