using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Runtime;
using LatentLab.Vae;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary>Options and helpers shared by the <c>vae</c> subcommands.</summary>
internal static class VaeCliOptions
{
    /// <summary>Where <c>vae train</c> writes and the other commands read, unless told otherwise.</summary>
    public const string DefaultRun = "runs/vae";

    public static Option<string?> Dataset() => new("--dataset")
    {
        Description = "Download and use mnist or fashion-mnist (verified, cached). Default: the bundled " +
                      "Fashion-MNIST test split, offline.",
    };

    public static Option<string?> DataDirectory() => new("--data-dir")
    {
        Description = "Read the IDX files (gzip or raw) from this folder, e.g. /usr/share/datasets/fashion-mnist.",
    };

    public static Option<string?> CacheDirectory() => new("--cache-dir")
    {
        Description = $"Download cache (default ${DataCache.EnvironmentVariable} or ~/.latentlab/datasets).",
    };

    public static Option<string> Split(string defaultValue) => new("--split")
    {
        Description = "train, test, or all (train then test; the chapter's 70,000 images).",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<string> Model() => new("--model")
    {
        Description = "The trained VAE: a run folder from 'vae train', its checkpoint folder, or model.safetensors.",
        DefaultValueFactory = _ => DefaultRun,
    };

    public static Option<string?> Out(string description) => new("--out") { Description = description };

    /// <summary>The data options of a command, added together.</summary>
    public sealed record DataOptions(Option<string?> Dataset, Option<string?> DataDirectory,
        Option<string?> CacheDirectory, Option<string> Split);

    public static DataOptions AddData(Command command, string defaultSplit)
    {
        var options = new DataOptions(Dataset(), DataDirectory(), CacheDirectory(), Split(defaultSplit));
        command.Options.Add(options.Dataset);
        command.Options.Add(options.DataDirectory);
        command.Options.Add(options.CacheDirectory);
        command.Options.Add(options.Split);
        return options;
    }

    /// <summary>Parses <c>--split</c>.</summary>
    public static MnistSplit ParseSplit(string value) => value.Trim().ToLowerInvariant() switch
    {
        "train" => MnistSplit.Train,
        "test" => MnistSplit.Test,
        "all" => MnistSplit.All,
        _ => throw new UsageException($"--split must be train, test or all (got '{value}')."),
    };

    /// <summary>Loads the data the options name, downloading with a progress bar if needed.</summary>
    public static async Task<(ImageSet Images, string Description)> LoadDataAsync(ParseResult parse,
        DataOptions options, CancellationToken cancellationToken)
    {
        string? dataset = parse.GetValue(options.Dataset);
        string? directory = parse.GetValue(options.DataDirectory);
        MnistSplit split = ParseSplit(parse.GetValue(options.Split)!);
        if (dataset is not null && !MnistFamily.Names.Contains(dataset.Trim().ToLowerInvariant()))
        {
            throw new UsageException(
                $"--dataset must be one of {string.Join(", ", MnistFamily.Names)} (got '{dataset}').");
        }
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new UsageException($"--data-dir {directory} does not exist.");
        }
        if (dataset is null && directory is null && split == MnistSplit.Train)
        {
            throw new UsageException("the bundled data holds only the Fashion-MNIST test split; use --split test " +
                                     "or all, or --dataset fashion-mnist / --data-dir for the training split.");
        }
        var downloader = new FileDownloader(loggerFactory: CliLogging.Factory);
        using var progress = new DownloadBars();
        ImageSet images = await MnistFamily.LoadAsync(
            new MnistRequest(dataset, directory, parse.GetValue(options.CacheDirectory), split), downloader,
            progress, cancellationToken).ConfigureAwait(false);
        string source = directory is not null
            ? $"{directory} ({dataset ?? "fashion-mnist"}), {split.ToString().ToLowerInvariant()}"
            : dataset is not null
                ? $"{dataset}, {split.ToString().ToLowerInvariant()}"
                : "bundled Fashion-MNIST test split";
        return (images, string.Create(CultureInfo.InvariantCulture,
            $"{source}: {images.Count:N0} images {images.Channels}x{images.Height}x{images.Width}"));
    }

    /// <summary>Whether the data options point at the bundled data (which has no separate held-out split).</summary>
    public static bool IsBundled(ParseResult parse, DataOptions options) =>
        parse.GetValue(options.Dataset) is null && parse.GetValue(options.DataDirectory) is null;

    /// <summary>Loads the model named by <c>--model</c> onto the device.</summary>
    public static VaeModel LoadModel(string path, torch.Device device)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException(
                $"--model {path} does not exist; train one first with 'latentlab vae train --out {path}'.");
        }
        return VaeCheckpoint.Load(path, device);
    }

    /// <summary>The run folder a model path belongs to, where results go by default.</summary>
    public static string RunFolder(string modelPath)
    {
        string directory = VaeCheckpoint.ResolveDirectory(modelPath);
        return Path.GetFileName(directory) == VaeCheckpoint.RunCheckpointFolder
            ? Path.GetDirectoryName(directory)!
            : directory;
    }

    /// <summary>The option's value, else <paramref name="fileName"/> in the model's run folder.</summary>
    public static string OutputPath(string? option, string modelPath, string fileName) =>
        option ?? Path.Combine(RunFolder(modelPath), fileName);

    /// <summary>Applies --device and --threads; returns the device.</summary>
    public static torch.Device Setup(ParseResult parse, Option<string> device, Option<int> threads)
    {
        TorchRuntime.EnsureLoaded();
        CommonOptions.ApplyThreads(parse.GetValue(threads));
        return TorchRuntime.ParseDevice(parse.GetValue(device)!);
    }

    /// <summary>Parses a latent point "x,y,..." of the model's dimension.</summary>
    public static float[] ParsePoint(string option, string text, int latentDim)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) ||
                !float.IsFinite(values[i]))
            {
                throw new UsageException($"{option} must be {latentDim} comma-separated numbers (got '{text}').");
            }
        }
        if (values.Length != latentDim)
        {
            throw new UsageException($"{option} has {values.Length} numbers but the model's latent has {latentDim}.");
        }
        return values;
    }

    /// <summary>Formats a number for the summary block.</summary>
    public static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
