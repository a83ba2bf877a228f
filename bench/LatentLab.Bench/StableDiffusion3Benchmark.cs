using System.Diagnostics;
using System.Globalization;
using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.StableDiffusion.Pipeline;
using LatentLab.StableDiffusion.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Bench;

/// <summary>
/// <c>sd3 [--dtype bf16|f32|both] [--steps 2] [--size 512] [--layers 24] [--no-vae] [--no-transformer]</c>: SD3 Medium's transformer
/// and VAE decoder built from bench/configs/sd3-medium with random weights (speed does not depend on their values);
/// seconds per denoising step at SIZE x SIZE with guidance (batch 2, 333 text tokens), seconds per VAE decode,
/// resident memory, and the achieved rate against this CPU's peak.
/// </summary>
public static class StableDiffusion3Benchmark
{
    private const int TextTokens = 77 + 256;

    public static Task<int> Run(string[] args)
    {
        string dtypes = Option(args, "--dtype", "both");
        int steps = int.Parse(Option(args, "--steps", "2"), CultureInfo.InvariantCulture);
        int size = int.Parse(Option(args, "--size", "512"), CultureInfo.InvariantCulture);
        int? layers = Option(args, "--layers", "") is { Length: > 0 } given ? int.Parse(given, CultureInfo.InvariantCulture) : null;
        bool vae = !args.Contains("--no-vae");
        bool transformer = !args.Contains("--no-transformer");

        string configs = Path.Combine(RepositoryRoot(), "bench", "configs", "sd3-medium");
        SD3TransformerConfig transformerConfig = SD3TransformerConfig.Load(Path.Combine(configs, "transformer", "config.json"));
        if (layers is { } count) transformerConfig = transformerConfig with { NumLayers = count };
        AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.Load(Path.Combine(configs, "vae", "config.json"));
        CpuPeak peak = CpuPeak.Detect();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peak: {peak.Cores} threads x {peak.GigaHertz:F2} GHz; {peak.Basis} => FP32 {peak.Float32GFlops:F0} " +
            $"GFLOP/s, BF16 {peak.BFloat16GFlops:F0} GFLOP/s"));
        Console.WriteLine($"transformer: {transformerConfig.NumLayers} layers, width {transformerConfig.InnerDim}; " +
                          $"{size}x{size}, CFG batch 2, {TextTokens} text tokens, {steps} step(s)");

        int latent = size / vaeConfig.ScaleFactor;
        double stepFlops = Sd3Flops.TransformerCall(transformerConfig, 2, latent, latent, TextTokens);
        double decodeFlops = Sd3Flops.VaeDecode(vaeConfig, latent, latent);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"work: {stepFlops / 1e12:F2} TFLOP per denoising step, {decodeFlops / 1e12:F2} TFLOP per VAE decode"));

        ScalarType[] types = dtypes switch
        {
            "bf16" => [ScalarType.BFloat16],
            "f32" => [ScalarType.Float32],
            _ => [ScalarType.BFloat16, ScalarType.Float32],
        };
        foreach (ScalarType dtype in types)
        {
            double rate = dtype == ScalarType.BFloat16 ? peak.BFloat16GFlops : peak.Float32GFlops;
            if (transformer) MeasureTransformer(transformerConfig, dtype, latent, steps, stepFlops, rate);
            if (vae) MeasureVae(vaeConfig, dtype, latent, decodeFlops, rate);
        }
        return Task.FromResult(0);
    }

    private static void MeasureTransformer(SD3TransformerConfig config, ScalarType dtype, int latent, int steps,
        double flops, double peakGFlops)
    {
        PeakMemory.TryResetPeak();
        long before = PeakMemory.CurrentBytes();
        var clock = Stopwatch.StartNew();
        manual_seed(0);
        using SD3Transformer2DModel model = StableDiffusion3.BuildInDType(() => new SD3Transformer2DModel(config), dtype);
        model.eval();
        long parameters = model.parameters().Sum(parameter => parameter.numel());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{Name(dtype)}] transformer built: {parameters / 1e9:F2} B parameters in {clock.Elapsed.TotalSeconds:F1} s, " +
            $"resident {PeakMemory.Format(PeakMemory.CurrentBytes())} (+{PeakMemory.Format(PeakMemory.CurrentBytes() - before)})"));

        using var noGrad = no_grad();
        using Tensor latents = randn(2, config.InChannels, latent, latent);
        using Tensor text = randn(2, TextTokens, config.JointAttentionDim);
        using Tensor pooled = randn(2, config.PooledProjectionDim);
        using Tensor timesteps = full(2, 1000f);
        var times = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            clock.Restart();
            using (NewDisposeScope()) model.forward(latents, text, pooled, timesteps);
            times.Add(clock.Elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{Name(dtype)}] step {step + 1}: {times[^1]:F2} s, {flops / times[^1] / 1e9:F1} GFLOP/s " +
                $"({100 * flops / times[^1] / 1e9 / peakGFlops:F1}% of peak)"));
        }
        double best = times.Min();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{Name(dtype)}] denoising step (CFG batch 2): best {best:F2} s/step, {flops / best / 1e9:F1} GFLOP/s = " +
            $"{100 * flops / best / 1e9 / peakGFlops:F1}% of {peakGFlops:F0}; peak resident {PeakMemory.Format(PeakMemory.PeakBytes())}"));
    }

    private static void MeasureVae(AutoencoderKLConfig config, ScalarType dtype, int latent, double flops,
        double peakGFlops)
    {
        PeakMemory.TryResetPeak();
        manual_seed(0);
        using AutoencoderKL vae = StableDiffusion3.BuildInDType(() => new AutoencoderKL(config), dtype);
        vae.eval();
        using var noGrad = no_grad();
        using Tensor latents = randn(1, config.LatentChannels, latent, latent);
        var clock = Stopwatch.StartNew();
        using (NewDisposeScope()) vae.Decode(vae.Unscale(latents));
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{Name(dtype)}] VAE decode to {latent * config.ScaleFactor}px: {seconds:F2} s, {flops / seconds / 1e9:F1} GFLOP/s = " +
            $"{100 * flops / seconds / 1e9 / peakGFlops:F1}% of peak; peak resident {PeakMemory.Format(PeakMemory.PeakBytes())}"));
    }

    private static string Name(ScalarType dtype) => dtype == ScalarType.BFloat16 ? "bf16" : "f32";

    private static string Option(string[] args, string name, string fallback)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "LatentLab.slnx"))) return folder.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
