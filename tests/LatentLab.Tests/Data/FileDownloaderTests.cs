using System.Security.Cryptography;
using LatentLab.Data;

namespace LatentLab.Tests.Data;

public class FileDownloaderTests
{
    private static readonly byte[] Content = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7 % 251)).ToArray();
    private static readonly string ContentSha256 = Convert.ToHexStringLower(SHA256.HashData(Content));

    [Fact]
    public async Task Downloads_verifies_and_then_reuses_the_cache()
    {
        using var server = new LocalHttpServer();
        Uri url = server.Add("/data/file.bin", Content);
        string cache = TestPaths.NewTemporaryFolder();
        var downloader = new FileDownloader();
        var file = new RemoteFile("file.bin", [url], ContentSha256);

        string path = await downloader.FetchAsync(file, cache);
        string again = await downloader.FetchAsync(file, cache);

        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
        Assert.Equal(path, again);
        Assert.Single(server.Requests);   // the second call used the cache
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task Falls_back_to_the_next_mirror()
    {
        using var server = new LocalHttpServer();
        Uri good = server.Add("/good/file.bin", Content);
        Uri missing = new($"http://127.0.0.1:{server.Port}/missing/file.bin");
        var file = new RemoteFile("file.bin", [missing, good], ContentSha256);

        string path = await new FileDownloader().FetchAsync(file, TestPaths.NewTemporaryFolder());

        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Wrong_checksum_leaves_nothing_under_the_real_name()
    {
        using var server = new LocalHttpServer();
        Uri url = server.Add("/file.bin", Content);
        string cache = TestPaths.NewTemporaryFolder();
        var file = new RemoteFile("file.bin", [url], new string('0', 64));

        DownloadException error = await Assert.ThrowsAsync<DownloadException>(
            () => new FileDownloader().FetchAsync(file, cache));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cache, "file.bin")));
        Assert.False(File.Exists(Path.Combine(cache, "file.bin.partial")));
    }

    [Fact]
    public async Task Interrupted_download_resumes_with_a_range_request()
    {
        using var server = new LocalHttpServer();
        Uri url = server.Add("/file.bin", Content);
        server.CutShort["/file.bin"] = 50_000;
        string cache = TestPaths.NewTemporaryFolder();
        var file = new RemoteFile("file.bin", [url], ContentSha256);
        var downloader = new FileDownloader();

        await Assert.ThrowsAsync<DownloadException>(() => downloader.FetchAsync(file, cache));
        long partial = new FileInfo(Path.Combine(cache, "file.bin.partial")).Length;
        string path = await downloader.FetchAsync(file, cache);

        Assert.True(partial > 0, "the first attempt should have kept its partial file");
        Assert.Contains($"GET /file.bin range=bytes={partial}-", server.Requests);
        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Offline_error_says_where_to_place_the_file()
    {
        string cache = TestPaths.NewTemporaryFolder();
        var file = new RemoteFile("file.bin", [LocalHttpServer.Unreachable("/file.bin")], ContentSha256);

        DownloadException error = await Assert.ThrowsAsync<DownloadException>(
            () => new FileDownloader().FetchAsync(file, cache));

        Assert.Contains($"place the file at {Path.Combine(cache, "file.bin")}", error.Message, StringComparison.Ordinal);
        Assert.Contains(ContentSha256, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_file_in_the_cache_is_reported_not_used()
    {
        string cache = TestPaths.NewTemporaryFolder();
        await File.WriteAllBytesAsync(Path.Combine(cache, "file.bin"), [1, 2, 3]);
        var file = new RemoteFile("file.bin", [LocalHttpServer.Unreachable("/file.bin")], ContentSha256);

        DownloadException error = await Assert.ThrowsAsync<DownloadException>(
            () => new FileDownloader().FetchAsync(file, cache));

        Assert.Contains("delete it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cache_root_comes_from_option_then_environment_then_home()
    {
        Assert.Equal(Path.GetFullPath("/tmp/from-option"), DataCache.ResolveRoot("/tmp/from-option"));
        string? saved = Environment.GetEnvironmentVariable(DataCache.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, "/tmp/from-env");
            Assert.Equal("/tmp/from-env", DataCache.ResolveRoot(null));
            Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, null);
            Assert.EndsWith(Path.Combine(".latentlab", "datasets"), DataCache.ResolveRoot(null), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, saved);
        }
    }
}
