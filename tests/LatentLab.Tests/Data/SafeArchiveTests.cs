using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using LatentLab.Data;
using SkiaSharp;

namespace LatentLab.Tests.Data;

public class SafeArchiveTests
{
    private static byte[] TarGz(Action<TarWriter> fill)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            fill(writer);
        }
        return memory.ToArray();
    }

    private static void AddFile(TarWriter writer, string name, byte[] content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
        writer.WriteEntry(entry);
    }

    private static byte[] Png(SKColor colour)
    {
        using var bitmap = new SKBitmap(16, 16);
        bitmap.Erase(colour);
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Fact]
    public void Entries_that_climb_out_are_refused_and_nothing_is_written()
    {
        string root = TestPaths.NewTemporaryFolder();
        string archive = Path.Combine(root, "evil.tgz");
        File.WriteAllBytes(archive, TarGz(writer =>
        {
            AddFile(writer, "jpg/fine.txt", [1, 2, 3]);
            AddFile(writer, "../escaped.txt", [4, 5, 6]);
        }));
        string target = Path.Combine(root, "out");

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => SafeArchive.ExtractTarGz(archive, target));

        Assert.Contains("../escaped.txt", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(root, "escaped.txt")));
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.GetDirectories(root));
    }

    [Fact]
    public void Links_and_absolute_paths_are_refused()
    {
        string root = TestPaths.NewTemporaryFolder();
        string linkArchive = Path.Combine(root, "link.tgz");
        File.WriteAllBytes(linkArchive, TarGz(writer =>
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "jpg/link") { LinkName = "/etc/passwd" })));
        Assert.Throws<InvalidDataException>(() => SafeArchive.ExtractTarGz(linkArchive, Path.Combine(root, "a")));

        Assert.Null(SafeArchive.ResolveInside(root, "/etc/passwd"));
        Assert.Null(SafeArchive.ResolveInside(root, "a/../../x"));
        Assert.Null(SafeArchive.ResolveInside(root, "C:/x"));
        Assert.Equal(Path.Combine(root, "a", "b.jpg"), SafeArchive.ResolveInside(root, "a/./b.jpg"));
    }

    [Fact]
    public void Corrupt_archive_is_a_clear_error()
    {
        string root = TestPaths.NewTemporaryFolder();
        string archive = Path.Combine(root, "bad.tgz");
        File.WriteAllBytes(archive, [31, 139, 8, 0, 1, 2, 3]);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() =>
            SafeArchive.ExtractTarGz(archive, Path.Combine(root, "x")));
        Assert.Contains("bad.tgz", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flowers_archive_downloads_from_a_local_server_extracts_and_loads()
    {
        byte[] archive = TarGz(writer =>
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "jpg/"));
            AddFile(writer, "jpg/image_00001.png", Png(SKColors.Red));
            AddFile(writer, "jpg/image_00002.png", Png(SKColors.Blue));
        });
        using var server = new LocalHttpServer();
        Uri url = server.Add("/102flowers.tgz", archive);
        var remote = new RemoteFile("102flowers.tgz", [url], Convert.ToHexStringLower(SHA256.HashData(archive)));
        string cache = TestPaths.NewTemporaryFolder();

        string folder = await OxfordFlowers.EnsureImagesAsync(cache, new FileDownloader(), archive: remote);
        string again = await OxfordFlowers.EnsureImagesAsync(cache, new FileDownloader(), archive: remote);

        Assert.Equal(folder, again);
        Assert.Single(server.Requests);
        ImageFolderResult images = ImageFolderDataset.Load(new ImageFolderRequest(folder, 8, 8) { UseCacheFile = false });
        Assert.Equal(2, images.Images.Count);
        Assert.Equal(255, images.Images.Pixels.Span[0]); // image_00001 is red
    }
}
