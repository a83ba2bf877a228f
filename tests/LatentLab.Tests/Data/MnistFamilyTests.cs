using System.IO.Compression;
using LatentLab.Data;

namespace LatentLab.Tests.Data;

public sealed class MnistFamilyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("latentlab-mnist-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Idx(byte[] values, params int[] dimensions)
    {
        var bytes = new List<byte> { 0, 0, 8, (byte)dimensions.Length };
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

    /// <summary>Writes `count` 28x28 images whose every pixel is `first + index`, and their labels.</summary>
    private void WriteSplit(string prefix, int count, byte first, byte[] labels, bool gzip = true)
    {
        byte[] pixels = [.. Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)(first + i), 784))];
        byte[] images = Idx(pixels, count, 28, 28);
        byte[] labelFile = Idx(labels, labels.Length);
        string suffix = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(_directory, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(_directory, $"{prefix}-labels-idx1-ubyte{suffix}"),
            gzip ? Gzip(labelFile) : labelFile);
    }

    [Fact]
    public void Data_directory_gives_train_test_and_all_in_order()
    {
        WriteSplit("train", 3, first: 10, labels: [0, 1, 2]);
        WriteSplit("t10k", 2, first: 100, labels: [9, 8], gzip: false); // uncompressed names are accepted too

        ImageSet train = MnistFamily.LoadFromDirectory(_directory, MnistFamily.Mnist, MnistSplit.Train);
        ImageSet test = MnistFamily.LoadFromDirectory(_directory, MnistFamily.FashionMnist, MnistSplit.Test);
        ImageSet all = MnistFamily.LoadFromDirectory(_directory, MnistFamily.FashionMnist, MnistSplit.All);

        Assert.Equal((3, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal([0, 1, 2], train.Labels);
        Assert.Equal("2", train.ClassNames[2]);
        Assert.Equal([9, 8], test.Labels);
        Assert.Equal("Ankle boot", test.ClassNames[9]);
        Assert.Equal(5, all.Count);
        Assert.Equal([0, 1, 2, 9, 8], all.Labels);
        // Train first, then test: the pixel values identify the images.
        Assert.Equal([10, 11, 12, 100, 101], Enumerable.Range(0, 5).Select(i => all.Pixels.Span[i * 784]));
    }

    [Fact]
    public async Task Request_with_a_data_directory_reads_it_without_downloading()
    {
        WriteSplit("t10k", 2, first: 1, labels: [3, 4]);
        var downloader = new FileDownloader(new HttpClient(new RefusingHandler()));

        ImageSet test = await MnistFamily.LoadAsync(new MnistRequest("mnist", _directory, null, MnistSplit.Test),
            downloader, null, CancellationToken.None);

        Assert.Equal([3, 4], test.Labels);
    }

    [Fact]
    public void Images_and_labels_that_disagree_are_rejected_naming_the_file()
    {
        WriteSplit("t10k", 2, first: 1, labels: [3, 4, 5]);
        InvalidDataException error = Assert.Throws<InvalidDataException>(
            () => MnistFamily.LoadFromDirectory(_directory, MnistFamily.Mnist, MnistSplit.Test));
        Assert.Contains("t10k-labels-idx1-ubyte.gz: 3 labels for the 2 images", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_out_of_range_is_rejected()
    {
        WriteSplit("t10k", 2, first: 1, labels: [3, 10]);
        InvalidDataException error = Assert.Throws<InvalidDataException>(
            () => MnistFamily.LoadFromDirectory(_directory, MnistFamily.Mnist, MnistSplit.Test));
        Assert.Contains("label 10 at index 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_names_what_was_tried()
    {
        WriteSplit("t10k", 2, first: 1, labels: [3, 4]);
        FileNotFoundException error = Assert.Throws<FileNotFoundException>(
            () => MnistFamily.LoadFromDirectory(_directory, MnistFamily.Mnist, MnistSplit.Train));
        Assert.Contains("train-images-idx3-ubyte.gz", error.Message, StringComparison.Ordinal);
        Assert.Contains("train-images.idx3-ubyte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundled_data_is_the_fashion_mnist_test_split()
    {
        ImageSet bundled = MnistFamily.LoadBundled(MnistSplit.All);

        Assert.Equal(10_000, bundled.Count);
        Assert.Equal(10, bundled.ClassNames.Count);
        Assert.Equal("Ankle boot", bundled.ClassNames[bundled.Labels![0]]);
        ArgumentException error = Assert.Throws<ArgumentException>(() => MnistFamily.LoadBundled(MnistSplit.Train));
        Assert.Contains("--dataset fashion-mnist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dataset_lists_the_known_ones()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => MnistFamily.Describe("cifar10"));
        Assert.Contains("mnist, fashion-mnist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Published_files_are_named_and_checksummed()
    {
        foreach (MnistDataset dataset in new[] { MnistFamily.Mnist, MnistFamily.FashionMnist })
        {
            RemoteFile[] files = [dataset.TrainImages, dataset.TrainLabels, dataset.TestImages, dataset.TestLabels];
            Assert.All(files, file => Assert.Matches("^[0-9a-f]{64}$", file.Sha256));
            Assert.All(files, file => Assert.True(file.Urls.Count >= 2, $"{file.FileName} has no mirror"));
            Assert.All(files, file => Assert.All(file.Urls, url => Assert.EndsWith(file.FileName, url.AbsolutePath,
                StringComparison.Ordinal)));
            Assert.Equal(4, files.Select(file => file.Sha256).Distinct().Count());
        }
    }

    [Fact]
    public async Task Dataset_option_downloads_verifies_and_then_reuses_the_cache()
    {
        // The real Fashion-MNIST description (addresses and SHA-256s) is fetched through a local HTTP server: the
        // handler sends every request to it, and it serves the bundled test files, which have the published hashes.
        string bundled = MnistFamily.FindBundledDirectory()!;
        using var server = new LocalHttpServer();
        foreach (string name in new[] { "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" })
        {
            server.Add("/tensorflow/tf-keras-datasets/" + name, File.ReadAllBytes(Path.Combine(bundled, name)));
        }
        using var client = new HttpClient(new RedirectToLocalHandler(server.Port));
        var downloader = new FileDownloader(client);
        string cache = Path.Combine(_directory, "cache");
        var request = new MnistRequest("fashion-mnist", null, cache, MnistSplit.Test);

        ImageSet first = await MnistFamily.LoadAsync(request, downloader, null, CancellationToken.None);
        int requestsAfterFirst = server.Requests.Count;
        ImageSet second = await MnistFamily.LoadAsync(request, downloader, null, CancellationToken.None);

        Assert.Equal(10_000, first.Count);
        Assert.Equal(first.Labels, second.Labels);
        Assert.True(File.Exists(Path.Combine(cache, "fashion-mnist", "t10k-images-idx3-ubyte.gz")));
        Assert.Equal(["GET /tensorflow/tf-keras-datasets/t10k-images-idx3-ubyte.gz",
            "GET /tensorflow/tf-keras-datasets/t10k-labels-idx1-ubyte.gz"], server.Requests);
        Assert.Equal(requestsAfterFirst, server.Requests.Count); // the second load came from the cache
    }

    [Fact]
    public async Task A_corrupt_download_is_refused_and_says_where_to_place_the_file()
    {
        using var server = new LocalHttpServer();
        byte[] wrongFile = Gzip(Idx(new byte[784], 1, 28, 28));
        foreach (Uri url in MnistFamily.Mnist.TestImages.Urls) server.Add(url.AbsolutePath, wrongFile);
        using var client = new HttpClient(new RedirectToLocalHandler(server.Port));
        string cache = Path.Combine(_directory, "cache");

        DownloadException error = await Assert.ThrowsAsync<DownloadException>(() => MnistFamily.LoadAsync(
            new MnistRequest("mnist", null, cache, MnistSplit.Test), new FileDownloader(client), null,
            CancellationToken.None));

        string target = Path.Combine(cache, "mnist", "t10k-images-idx3-ubyte.gz");
        Assert.Contains($"place the file at {target}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    /// <summary>Sends every request to the local server, keeping its path (the published host is not contacted).</summary>
    private sealed class RedirectToLocalHandler(int port) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            request.RequestUri = new UriBuilder(request.RequestUri!) { Scheme = "http", Host = "127.0.0.1", Port = port }
                .Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Fails the test if anything is downloaded.</summary>
    private sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"unexpected download {request.RequestUri}");
    }
}
