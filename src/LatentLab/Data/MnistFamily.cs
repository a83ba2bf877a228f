namespace LatentLab.Data;

/// <summary>
/// Loads MNIST and Fashion-MNIST as an <see cref="ImageSet"/> (1 channel, 28x28, labels, class names) from a
/// folder of IDX files, from the download cache (fetching and verifying missing files), or from the Fashion-MNIST
/// test split bundled with LatentLab.
/// </summary>
public static class MnistFamily
{
    /// <summary>The dataset names accepted by <see cref="Describe"/> and <see cref="MnistRequest.Dataset"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mnist", "fashion-mnist"];

    /// <summary>LeCun, Cortes and Burges' handwritten digits.</summary>
    public static MnistDataset Mnist { get; } = Create(
        "mnist",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        // The original site now often refuses downloads; the Google and PyTorch mirrors hold the same files.
        ["https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/",
         "http://yann.lecun.com/exdb/mnist/"],
        trainImagesSha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        trainLabelsSha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        testImagesSha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        testLabelsSha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6");

    /// <summary>Zalando's Fashion-MNIST: the same format, ten kinds of clothing.</summary>
    public static MnistDataset FashionMnist { get; } = Create(
        "fashion-mnist",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
         "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        trainImagesSha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        trainLabelsSha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        testImagesSha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        testLabelsSha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05");

    /// <summary>Returns the description of a dataset by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static MnistDataset Describe(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "mnist" => Mnist,
            "fashion-mnist" or "fashion_mnist" => FashionMnist,
            _ => throw new ArgumentException(
                $"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    /// <summary>
    /// Loads the requested split: from <see cref="MnistRequest.DataDirectory"/> when set, else from the download
    /// cache when <see cref="MnistRequest.Dataset"/> is set (downloading and verifying missing files), else the
    /// bundled Fashion-MNIST test split.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown dataset, or the train split asked of the bundled data.</exception>
    /// <exception cref="InvalidDataException">A broken file, or images and labels that disagree.</exception>
    /// <exception cref="FileNotFoundException">A file is missing from the data directory or the bundle.</exception>
    /// <exception cref="DownloadException">A file could not be downloaded; says where to place it by hand.</exception>
    public static async Task<ImageSet> LoadAsync(MnistRequest request, FileDownloader downloader,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(downloader);
        MnistDataset dataset = request.Dataset is null ? FashionMnist : Describe(request.Dataset);

        if (request.DataDirectory is not null) return LoadFromDirectory(request.DataDirectory, dataset, request.Split);
        if (request.Dataset is null) return LoadBundled(request.Split);

        string directory = Path.Combine(DataCache.ResolveRoot(request.CacheDirectory), dataset.Name);
        async Task<ImageSet> FetchSplit(RemoteFile images, RemoteFile labels)
        {
            string imagesPath = await downloader.FetchAsync(images, directory, progress, ct).ConfigureAwait(false);
            string labelsPath = await downloader.FetchAsync(labels, directory, progress, ct).ConfigureAwait(false);
            return ReadPair(imagesPath, labelsPath, dataset);
        }
        return request.Split switch
        {
            MnistSplit.Train => await FetchSplit(dataset.TrainImages, dataset.TrainLabels).ConfigureAwait(false),
            MnistSplit.Test => await FetchSplit(dataset.TestImages, dataset.TestLabels).ConfigureAwait(false),
            _ => ImageSet.Concat(
                await FetchSplit(dataset.TrainImages, dataset.TrainLabels).ConfigureAwait(false),
                await FetchSplit(dataset.TestImages, dataset.TestLabels).ConfigureAwait(false)),
        };
    }

    /// <summary>
    /// Reads a split from a folder of IDX files named as published (<c>train-images-idx3-ubyte.gz</c>, ...), also
    /// accepting them uncompressed (<c>train-images-idx3-ubyte</c>) or with the original dot
    /// (<c>train-images.idx3-ubyte</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">A needed file is not in the folder; names the names tried.</exception>
    /// <exception cref="InvalidDataException">A file is broken, or images and labels disagree.</exception>
    public static ImageSet LoadFromDirectory(string directory, MnistDataset dataset, MnistSplit split)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(dataset);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"data directory {directory} does not exist.");
        }
        ImageSet ReadSplit(RemoteFile images, RemoteFile labels) =>
            ReadPair(FindIdxFile(directory, images.FileName), FindIdxFile(directory, labels.FileName), dataset);
        return split switch
        {
            MnistSplit.Train => ReadSplit(dataset.TrainImages, dataset.TrainLabels),
            MnistSplit.Test => ReadSplit(dataset.TestImages, dataset.TestLabels),
            _ => ImageSet.Concat(
                ReadSplit(dataset.TrainImages, dataset.TrainLabels),
                ReadSplit(dataset.TestImages, dataset.TestLabels)),
        };
    }

    /// <summary>
    /// Loads the Fashion-MNIST test split bundled with LatentLab (10,000 images, MIT licence).
    /// <see cref="MnistSplit.Test"/> and <see cref="MnistSplit.All"/> both give those images.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="MnistSplit.Train"/>: the bundle has no train split.</exception>
    /// <exception cref="FileNotFoundException">The bundled folder cannot be found.</exception>
    public static ImageSet LoadBundled(MnistSplit split)
    {
        if (split == MnistSplit.Train)
        {
            throw new ArgumentException(
                "the bundled data holds only the Fashion-MNIST test split; for the training split use " +
                "--dataset fashion-mnist (download) or --data-dir DIR.", nameof(split));
        }
        string directory = FindBundledDirectory() ?? throw new FileNotFoundException(
            $"the bundled data folder data/{BundledData.FashionMnistFolder} was not found beside " +
            $"{AppContext.BaseDirectory} or above it; use --dataset or --data-dir.");
        return LoadFromDirectory(directory, FashionMnist, MnistSplit.Test);
    }

    /// <summary>The folder of the bundled Fashion-MNIST test split, or null when it is missing.</summary>
    public static string? FindBundledDirectory() =>
        BundledData.FindDirectory(BundledData.FashionMnistFolder, FashionMnist.TestImages.FileName);

    /// <summary>Reads an images file and its labels file and checks that they belong together.</summary>
    /// <exception cref="InvalidDataException">Wrong image size, count mismatch, or a label out of range.</exception>
    public static ImageSet ReadPair(string imagesPath, string labelsPath, MnistDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        IdxArray images = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        int count = images.Dimensions[0];
        if (images.Dimensions[1] != MnistDataset.ImageSize || images.Dimensions[2] != MnistDataset.ImageSize)
        {
            throw new InvalidDataException(
                $"{imagesPath}: images are {images.Dimensions[1]}x{images.Dimensions[2]}; " +
                $"{dataset.Name} images are {MnistDataset.ImageSize}x{MnistDataset.ImageSize}.");
        }
        if (labels.Length != count)
        {
            throw new InvalidDataException(
                $"{labelsPath}: {labels.Length} labels for the {count} images in {imagesPath}.");
        }
        int badLabel = Array.FindIndex(labels, label => label >= dataset.ClassNames.Count);
        if (badLabel >= 0)
        {
            throw new InvalidDataException(
                $"{labelsPath}: label {labels[badLabel]} at index {badLabel} is not a class of {dataset.Name} " +
                $"(0 to {dataset.ClassNames.Count - 1}).");
        }
        return new ImageSet(images.Data, count, channels: 1, MnistDataset.ImageSize, MnistDataset.ImageSize,
            labels, dataset.ClassNames);
    }

    private static string FindIdxFile(string directory, string publishedName)
    {
        // "train-images-idx3-ubyte.gz" -> also "train-images-idx3-ubyte" and "train-images.idx3-ubyte".
        string raw = Path.GetFileNameWithoutExtension(publishedName);
        int lastDash = raw.LastIndexOf("-idx", StringComparison.Ordinal);
        string dotted = lastDash < 0 ? raw : string.Concat(raw.AsSpan(0, lastDash), ".", raw.AsSpan(lastDash + 1));
        string[] candidates = [publishedName, raw, dotted, dotted + ".gz"];
        foreach (string candidate in candidates)
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"{directory} has no {publishedName} (also tried {string.Join(", ", candidates.Skip(1))}).",
            Path.Combine(directory, publishedName));
    }

    private static MnistDataset Create(string name, IReadOnlyList<string> classNames, IReadOnlyList<string> baseUrls,
        string trainImagesSha256, string trainLabelsSha256, string testImagesSha256, string testLabelsSha256)
    {
        RemoteFile File(string fileName, string sha256) =>
            new(fileName, [.. baseUrls.Select(baseUrl => new Uri(baseUrl + fileName))], sha256);
        return new MnistDataset(name, classNames,
            File("train-images-idx3-ubyte.gz", trainImagesSha256),
            File("train-labels-idx1-ubyte.gz", trainLabelsSha256),
            File("t10k-images-idx3-ubyte.gz", testImagesSha256),
            File("t10k-labels-idx1-ubyte.gz", testLabelsSha256));
    }
}
