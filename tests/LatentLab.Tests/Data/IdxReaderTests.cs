using System.IO.Compression;
using LatentLab.Data;

namespace LatentLab.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("latentlab-idx-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>An IDX header for unsigned bytes with the given dimensions, followed by `values`.</summary>
    private static byte[] Idx(int[] dimensions, byte[] values, byte type = 0x08)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dimensions.Length };
        foreach (int size in dimensions)
        {
            bytes.AddRange([(byte)(size >> 24), (byte)(size >> 16), (byte)(size >> 8), (byte)size]);
        }
        bytes.AddRange(values);
        return [.. bytes];
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(raw);
        return buffer.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Sequence(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i * 7))];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_raw_or_gzip_by_content_not_name(bool compressed)
    {
        byte[] raw = Idx([2, 3, 4], Sequence(24));
        // The name says nothing about compression on purpose: detection is by the gzip signature.
        string path = Write("images.bin", compressed ? Gzip(raw) : raw);

        IdxArray images = IdxReader.ReadImages(path);

        Assert.Equal([2, 3, 4], images.Dimensions);
        Assert.Equal(Sequence(24), images.Data);
    }

    [Fact]
    public void Reads_labels()
    {
        string path = Write("labels.gz", Gzip(Idx([5], [9, 0, 3, 1, 7])));
        Assert.Equal([9, 0, 3, 1, 7], IdxReader.ReadLabels(path));
    }

    [Fact]
    public void Reads_the_bundled_fashion_mnist_test_split()
    {
        string directory =
            BundledData.FindDirectory(BundledData.FashionMnistFolder, "t10k-images-idx3-ubyte.gz")
                ?? throw new InvalidOperationException("bundled data/fashion-mnist not found");
        IdxArray images = IdxReader.ReadImages(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"));
        byte[] labels = IdxReader.ReadLabels(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"));

        Assert.Equal([10_000, 28, 28], images.Dimensions);
        Assert.Equal(10_000, labels.Length);
        Assert.All(labels, label => Assert.InRange(label, (byte)0, (byte)9));
        // Fashion-MNIST's first test image is an ankle boot (class 9), the second a pullover (2).
        Assert.Equal(9, labels[0]);
        Assert.Equal(2, labels[1]);
    }

    public static TheoryData<string, byte[], string> BrokenFiles => new()
    {
        { "empty", [], "magic number" },
        { "wrong magic", [1, 2, 8, 1, 0, 0, 0, 1, 5], "not an IDX file" },
        { "float type", Idx([1], [0, 0, 0, 0], type: 0x0D), "0x0D is not supported" },
        { "rank zero", [0, 0, 8, 0], "rank 0" },
        { "header cut", Idx([4], [])[..6], "dimension" },
        { "zero dimension", Idx([0, 3], []), "dimension 0 is 0" },
        { "truncated data", Idx([2, 2, 2], Sequence(7)), "truncated" },
        { "extra data", Idx([3], Sequence(4)), "implies 11" },
        { "gzip truncated data", Gzip(Idx([2, 2, 2], Sequence(5))), "found 5" },
        { "gzip extra data", Gzip(Idx([3], Sequence(4))), "continues past" },
        { "gzip cut short", Gzip(Idx([100, 28, 28], Sequence(78_400)))[..200], "" },
        { "gzip lying header", Gzip(Idx([1_000_000, 28, 28], [])), "promises more data" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void Broken_files_are_an_InvalidDataException_naming_the_file(string name, byte[] bytes, string reason)
    {
        string path = Write(name.Replace(' ', '-') + ".idx", bytes);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Labels_file_read_as_images_says_what_was_expected()
    {
        string path = Write("labels-as-images", Idx([3], [1, 2, 3]));
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains("3 dimensions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_FileNotFound_naming_it()
    {
        string path = Path.Combine(_directory, "absent.gz");
        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
