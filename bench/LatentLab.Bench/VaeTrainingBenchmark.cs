using System.Globalization;
using System.Text.Json;
using LatentLab.Data;
using LatentLab.Vae;
using TorchSharp;

namespace LatentLab.Bench;

/// <summary>
/// <c>vae-train</c>: trains the chapter's VAE in LatentLab and in PyTorch (bench/reference/vae_train.py) on the same
/// images with the same batch size and thread count, one after the other in one run, and prints images/s of the
/// timed epochs (all but the first, which warms up), peak resident memory, memory after every epoch, and the ratio.
/// </summary>
/// <remarks>
/// Options: <c>--threads N</c> (default 2, for both), <c>--epochs N</c> (default 3), <c>--batch-size N</c> (128),
/// <c>--limit N</c> images (10,000), <c>--data-dir DIR</c> (an MNIST-family folder; default the bundled test split),
/// <c>--no-reference</c>. Debian's python3-torch defaults to one thread (set here to the same N) and links the
/// reference BLAS; set <c>LATENTLAB_BENCH_BLAS_DIR</c> to a folder holding another <c>libblas.so.3</c> (e.g.
/// OpenBLAS unpacked from <c>apt-get download libopenblas0-pthread</c>) to run PyTorch with it.
/// </remarks>
public static class VaeTrainingBenchmark
{
    public const string Name = "vae-train";
    public const string Description = "VAE training images/s and peak memory: LatentLab vs PyTorch";

    public static Task<int> Run(string[] args)
    {
        int threads = IntOption(args, "--threads", 2);
        int epochs = IntOption(args, "--epochs", 3);
        int batchSize = IntOption(args, "--batch-size", 128);
        int limit = IntOption(args, "--limit", 10_000);
        string? dataDirectory = StringOption(args, "--data-dir");
        bool withReference = !args.Contains("--no-reference");

        string folder = dataDirectory ?? MnistFamily.FindBundledDirectory()
            ?? throw new DirectoryNotFoundException("bundled data/fashion-mnist not found; pass --data-dir.");
        ImageSet data = MnistFamily.LoadFromDirectory(folder, MnistFamily.FashionMnist, MnistSplit.Test);
        data = data.Slice(0, Math.Min(limit, data.Count));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"setup: {data.Count} images 1x28x28 from {folder}, batch {batchSize}, {epochs} epochs " +
            $"(first one untimed), {threads} thread(s) for both; load average {LoadAverage()}"));

        // 1. LatentLab.
        torch.set_num_threads(threads);
        PeakMemory.TryResetPeak();
        var epochMemory = new List<long>();
        double imagesPerSecond;
        using (VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(epochs, batchSize)))
        {
            var progress = new EpochMemory(epochMemory);
            VaeTrainingResult result = trainer.Train(data, checkpointDirectory: null, progress);
            IEnumerable<VaeEpochSummary> timed = result.History.Count > 1 ? result.History.Skip(1) : result.History;
            imagesPerSecond = timed.Average(epoch => epoch.ImagesPerSecond);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"latentlab: {imagesPerSecond:F0} images/s (epochs: " +
                $"{Join(result.History.Select(e => e.ImagesPerSecond))}), " +
                $"peak RSS {PeakMemory.Format(PeakMemory.PeakBytes())}, RSS after each epoch " +
                $"{string.Join(" / ", epochMemory.Select(PeakMemory.Format))}, final loss {result.History[^1].Loss:F1}"));
        }
        if (!withReference) return Task.FromResult(0);

        // 2. PyTorch, same images (the same IDX file), same settings.
        if (Environment.GetEnvironmentVariable("LATENTLAB_BENCH_BLAS_DIR") is { Length: > 0 } blas)
        {
            Environment.SetEnvironmentVariable("LD_LIBRARY_PATH", blas);
            Environment.SetEnvironmentVariable("OPENBLAS_NUM_THREADS", "1");
            Console.WriteLine($"pytorch: using libblas.so.3 from {blas}");
        }
        using JsonDocument? reference = PythonReference.Run("vae_train.py",
            Path.Combine(folder, MnistFamily.FashionMnist.TestImages.FileName), "--threads", Text(threads),
            "--epochs", Text(epochs), "--batch-size", Text(batchSize), "--limit", Text(data.Count));
        if (reference is null) return Task.FromResult(1);
        JsonElement root = reference.RootElement;
        double referenceRate = root.GetProperty("images_per_second").GetDouble();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pytorch {root.GetProperty("torch").GetString()} (default threads " +
            $"{root.GetProperty("default_threads").GetInt32()}, set to {root.GetProperty("threads").GetInt32()}): " +
            $"{referenceRate:F0} images/s (epochs: " +
            $"{Join(root.GetProperty("epoch_images_per_second").EnumerateArray().Select(e => e.GetDouble()))}), " +
            $"peak RSS {PeakMemory.Format(root.GetProperty("peak_rss_bytes").GetInt64())}, RSS after each epoch " +
            $"{string.Join(" / ", root.GetProperty("epoch_rss_bytes").EnumerateArray()
                .Select(e => PeakMemory.Format(e.GetInt64())))}, " +
            $"final loss {root.GetProperty("final_loss").GetDouble():F1}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio: LatentLab / PyTorch = {imagesPerSecond / referenceRate:F2}x images/s; load average " +
            $"{LoadAverage()}"));
        return Task.FromResult(0);
    }

    private sealed class EpochMemory(List<long> memory) : IProgress<VaeTrainingProgress>
    {
        public void Report(VaeTrainingProgress value)
        {
            if (value.EpochCompleted) memory.Add(PeakMemory.CurrentBytes());
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string Join(IEnumerable<double> values) =>
        string.Join(", ", values.Select(value => value.ToString("F0", CultureInfo.InvariantCulture)));

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? StringOption(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int IntOption(string[] args, string name, int defaultValue)
    {
        string? text = StringOption(args, name);
        if (text is null) return defaultValue;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
        {
            throw new ArgumentException($"{name} must be a positive integer (got '{text}').");
        }
        return value;
    }
}
