using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary>
/// The data options of the diffusion commands and how they become an <see cref="ImageSet"/> of the model's size:
/// a folder of pictures (<c>--images</c>, RGB), Oxford Flowers 102 (RGB), or an MNIST-family dataset (grayscale,
/// padded from 28 to 32 pixels, then resized if another size is asked). With none, the bundled Fashion-MNIST test
/// split, so everything runs offline.
/// </summary>
internal sealed class DiffusionDataOptions
{
    public const string OxfordFlowersName = "oxford-flowers";

    public Option<string?> Images { get; } = new("--images")
    {
        Description = "A folder of pictures (JPEG, PNG, BMP, WebP, GIF; searched recursively).",
    };

    public Option<string?> Dataset { get; } = new("--dataset")
    {
        Description = "A named dataset: oxford-flowers, fashion-mnist or mnist (downloaded into the data cache). " +
                      "Default: the bundled Fashion-MNIST test split.",
    };

    public Option<string?> DataDirectory { get; } = new("--data-dir")
    {
        Description = "Read an MNIST-family dataset's IDX files from this folder instead of downloading " +
                      "(e.g. /usr/share/datasets/fashion-mnist).",
    };

    public Option<string?> CacheDirectory { get; } = new("--cache-dir")
    {
        Description = "Download cache (default $LATENTLAB_DATA, else ~/.latentlab/datasets).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Images);
        command.Options.Add(Dataset);
        command.Options.Add(DataDirectory);
        command.Options.Add(CacheDirectory);
    }

    /// <summary>Whether the chosen data is grayscale (the MNIST family, also the default).</summary>
    public bool IsGrayscale(ParseResult parse) =>
        parse.GetValue(Images) is null && !string.Equals(parse.GetValue(Dataset), OxfordFlowersName,
            StringComparison.OrdinalIgnoreCase);

    /// <summary>The default image size: 32 for the MNIST family, 128 (the issue's model default) for pictures.</summary>
    public int DefaultImageSize(ParseResult parse) => IsGrayscale(parse) ? 32 : 128;

    /// <summary>A short description for the run summary.</summary>
    public string Describe(ParseResult parse)
    {
        if (parse.GetValue(Images) is { } folder) return $"images in {folder}";
        if (parse.GetValue(Dataset) is { } name) return parse.GetValue(DataDirectory) is { } dir ? $"{name} from {dir}" : name;
        return parse.GetValue(DataDirectory) is { } directory
            ? $"fashion-mnist from {directory}"
            : "bundled Fashion-MNIST test split (10,000 images)";
    }

    /// <summary>
    /// Loads the data at <paramref name="size"/> x <paramref name="size"/>; with <paramref name="labelled"/>, a
    /// picture folder's first-level subfolders become the labels.
    /// </summary>
    public async Task<ImageSet> LoadAsync(ParseResult parse, int size, MnistSplit split,
        CancellationToken cancellationToken, bool labelled = false)
    {
        string? images = parse.GetValue(Images), dataset = parse.GetValue(Dataset);
        string? dataDirectory = parse.GetValue(DataDirectory), cacheDirectory = parse.GetValue(CacheDirectory);
        if (images is not null && (dataset is not null || dataDirectory is not null))
            throw new UsageException("--images cannot be combined with --dataset or --data-dir.");

        if (images is not null) return LoadFolder(images, size, labelled, cancellationToken);

        var downloader = new FileDownloader(loggerFactory: CliLogging.Factory);
        if (string.Equals(dataset, OxfordFlowersName, StringComparison.OrdinalIgnoreCase))
        {
            if (dataDirectory is not null) throw new UsageException("--data-dir is for the MNIST family; use --images DIR.");
            string folder = await FetchWithProgress(progress => OxfordFlowers.EnsureImagesAsync(
                DataCache.ResolveRoot(cacheDirectory), downloader, progress, cancellationToken: cancellationToken));
            return LoadFolder(folder, size, labelled: false, cancellationToken);
        }

        if (dataset is not null && !MnistFamily.Names.Contains(dataset, StringComparer.OrdinalIgnoreCase))
        {
            throw new UsageException(
                $"--dataset '{dataset}' is not known; choose {OxfordFlowersName}, {string.Join(", ", MnistFamily.Names)}.");
        }
        var request = new MnistRequest(dataset?.ToLowerInvariant(), dataDirectory, cacheDirectory, split);
        ImageSet digits = await FetchWithProgress(progress =>
            MnistFamily.LoadAsync(request, downloader, progress, cancellationToken));
        // 28x28 pads exactly to 32x32 (2 pixels each side); other sizes are resized from there.
        return ImageSetTransforms.PadThenResize(digits, 32, size);
    }

    private static ImageSet LoadFolder(string folder, int size, bool labelled, CancellationToken cancellationToken)
    {
        var request = new ImageFolderRequest(folder, size, size) { LabelsFromSubfolders = labelled };
        ImageFolderResult result;
        using (ConsoleProgress bar = ConsoleProgress.Start($"decoding images in {folder}", 1))
        {
            var progress = new InlineProgress<ImageFolderProgress>(update =>
                bar.Report(update.Done, string.Create(CultureInfo.InvariantCulture, $"{update.Done}/{update.Total}")));
            result = ImageFolderDataset.Load(request, progress, CliLogging.Factory, cancellationToken);
        }
        if (result.Skipped.Count > 0)
            CliOutput.Warn($"{result.Skipped.Count} file(s) in {folder} could not be used and were skipped.");
        return result.Images;
    }

    private static async Task<T> FetchWithProgress<T>(Func<IProgress<DownloadProgress>, Task<T>> fetch)
    {
        ConsoleProgress? bar = null;
        string? current = null;
        var progress = new InlineProgress<DownloadProgress>(update =>
        {
            if (current != update.FileName)
            {
                bar?.Complete();
                bar?.Dispose();
                bar = ConsoleProgress.Start($"downloading {update.FileName}", update.BytesTotal ?? 1);
                current = update.FileName;
            }
            bar!.Report(update.BytesDone, string.Create(CultureInfo.InvariantCulture, $"{update.BytesDone / 1e6:F1} MB"));
        });
        try
        {
            return await fetch(progress).ConfigureAwait(false);
        }
        finally
        {
            bar?.Dispose();
        }
    }
}
