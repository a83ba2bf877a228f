using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Bench;

/// <summary>
/// <c>diffusion</c>: training and sampling images/s of the chapter's U-Net (widths 32,64,96,128, depth 2, RGB) at
/// several sizes, LatentLab against the same network in PyTorch (bench/reference/diffusion_unet.py), same thread
/// count, same batch; and peak resident memory of each process.
/// Options: --sizes 32,64,128 --train-steps 6,4,2 --sample-batches 1 --batch 32 --threads 2 --channels-last
/// --no-reference.
/// </summary>
public static class DiffusionBenchmark
{
    public static Task<int> Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }
        int[] sizes = Option("--sizes", "32,64,128").Split(',').Select(int.Parse).ToArray();
        int[] trainSteps = Option("--train-steps", "6,4,2").Split(',').Select(int.Parse).ToArray();
        int sampleBatches = int.Parse(Option("--sample-batches", "1"), CultureInfo.InvariantCulture);
        int batch = int.Parse(Option("--batch", "32"), CultureInfo.InvariantCulture);
        int threads = int.Parse(Option("--threads", "2"), CultureInfo.InvariantCulture);
        bool channelsLast = args.Contains("--channels-last");
        torch.set_num_threads(threads);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"diffusion U-Net, batch {batch}, {threads} threads, sampling 20 steps{(channelsLast ? ", channels-last input" : "")}"));

        var ours = new Dictionary<int, (double Train, double Sample)>();
        for (int i = 0; i < sizes.Length; i++) ours[sizes[i]] = Measure(sizes[i], batch, trainSteps[i], sampleBatches, channelsLast);
        long ourPeak = PeakMemory.PeakBytes();

        string[] referenceArguments =
        [
            "--sizes", string.Join(',', sizes), "--train-steps", string.Join(',', trainSteps),
            "--sample-batches", sampleBatches.ToString(CultureInfo.InvariantCulture),
            "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
            .. channelsLast ? new[] { "--channels-last" } : [],
        ];
        JsonDocument? reference = args.Contains("--no-reference")
            ? null
            : PythonReference.Run("diffusion_unet.py", referenceArguments);

        Console.WriteLine();
        Console.WriteLine("size  train img/s (LatentLab / PyTorch / ratio)   sample img/s (LatentLab / PyTorch / ratio)");
        foreach (int size in sizes)
        {
            (double train, double sample) = ours[size];
            string referenceTrain = "n/a", referenceSample = "n/a", trainRatio = "", sampleRatio = "";
            if (reference?.RootElement.GetProperty("results").TryGetProperty(size.ToString(CultureInfo.InvariantCulture),
                    out JsonElement row) == true)
            {
                double theirTrain = row.GetProperty("train_images_per_s").GetDouble();
                double theirSample = row.GetProperty("sample_images_per_s").GetDouble();
                referenceTrain = theirTrain.ToString("F2", CultureInfo.InvariantCulture);
                referenceSample = theirSample.ToString("F2", CultureInfo.InvariantCulture);
                trainRatio = (train / theirTrain).ToString("F2", CultureInfo.InvariantCulture) + "x";
                sampleRatio = (sample / theirSample).ToString("F2", CultureInfo.InvariantCulture) + "x";
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{size,4}  {train,8:F2} / {referenceTrain,8} / {trainRatio,6}              {sample,8:F2} / {referenceSample,8} / {sampleRatio,6}"));
        }
        string referencePeak = reference?.RootElement.TryGetProperty("peak_bytes", out JsonElement peak) == true
            ? PeakMemory.Format(peak.GetInt64())
            : "n/a";
        Console.WriteLine($"peak resident memory: LatentLab {PeakMemory.Format(ourPeak)}, PyTorch {referencePeak}");
        return Task.FromResult(0);
    }

    private static (double Train, double Sample) Measure(int size, int batch, int trainSteps, int sampleBatches,
        bool channelsLast)
    {
        manual_seed(0);
        var config = new DiffusionConfig { ImageSize = size, BatchSize = batch };
        using var model = new DiffusionModel(config);
        using var optimizer = new DiffusionOptimizer(model, 0);
        using Tensor images = ChannelsLast(rand(batch, 3, size, size), channelsLast);

        optimizer.Step(images); // warm-up
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < trainSteps; step++) optimizer.Step(images);
        double train = trainSteps * batch / clock.Elapsed.TotalSeconds;

        using var generator = new Generator(1);
        using (Tensor warm = model.Generate(ChannelsLast(model.InitialNoise(batch, generator), channelsLast), 20)) { }
        clock.Restart();
        for (int i = 0; i < sampleBatches; i++)
        {
            using Tensor sample = model.Generate(ChannelsLast(model.InitialNoise(batch, generator), channelsLast), 20);
        }
        double sampling = sampleBatches * batch / clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {size}px: train {train:F2} img/s ({batch * 1000.0 / train / batch:F0} ms per image), sample {sampling:F2} img/s"));
        return (train, sampling);
    }

    // A [B, C, H, W] tensor with NHWC strides: libtorch's CPU convolutions follow the input's memory format.
    private static Tensor ChannelsLast(Tensor images, bool enabled)
    {
        if (!enabled) return images;
        using Tensor nhwc = images.permute(0, 2, 3, 1).contiguous();
        Tensor result = nhwc.permute(0, 3, 1, 2);
        images.Dispose();
        return result;
    }
}
