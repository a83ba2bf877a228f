using System.Diagnostics;
using System.Globalization;
using LatentLab.StableDiffusion.TextEncoders;
using TorchSharp;

namespace LatentLab.Bench;

/// <summary>
/// Stable Diffusion 3's text side at its published sizes with random weights (speed does not depend on weight values):
/// seconds to encode a batch of two prompts (a prompt and its negative, as guidance needs) with CLIP-L, CLIP-G and
/// T5-XXL, in float32 and bfloat16, with the floating-point rate and peak memory.
/// <c>-- sd3-text [--dtype f32|bf16|both] [--t5-blocks N]</c>: T5-XXL has 24 blocks (9.5 GB in bfloat16); by default
/// one block is measured and the whole encoder's time extrapolated from it, which the output says.
/// </summary>
public static class Sd3TextBenchmark
{
    private const int Batch = 2;
    private const int T5Blocks = 24;

    private static readonly ClipTextConfig ClipL = new()
    {
        VocabSize = 49408,
        HiddenSize = 768,
        IntermediateSize = 3072,
        NumAttentionHeads = 12,
        NumHiddenLayers = 12,
        ProjectionDim = 768,
        HiddenAct = "quick_gelu",
    };

    private static readonly ClipTextConfig ClipG = new()
    {
        VocabSize = 49408,
        HiddenSize = 1280,
        IntermediateSize = 5120,
        NumAttentionHeads = 20,
        NumHiddenLayers = 32,
        ProjectionDim = 1280,
        HiddenAct = "gelu",
    };

    private static T5EncoderConfig T5Xxl(int blocks) => new()
    {
        VocabSize = 32128,
        DModel = 4096,
        DKv = 64,
        DFf = 10240,
        NumHeads = 64,
        NumLayers = blocks,
        FeedForwardProj = "gated-gelu",
    };

    public static Task<int> Run(string[] args)
    {
        string dtypes = Option(args, "--dtype") ?? "both";
        int t5Blocks = int.Parse(Option(args, "--t5-blocks") ?? "1", CultureInfo.InvariantCulture);
        if (t5Blocks is < 1 or > T5Blocks || dtypes is not ("f32" or "bf16" or "both"))
        {
            Console.WriteLine("usage: sd3-text [--dtype f32|bf16|both] [--t5-blocks 1..24]");
            return Task.FromResult(2);
        }

        using var noGrad = torch.no_grad();
        foreach (torch.ScalarType dtype in dtypes switch
        {
            "f32" => [torch.ScalarType.Float32],
            "bf16" => [torch.ScalarType.BFloat16],
            _ => (torch.ScalarType[])[torch.ScalarType.Float32, torch.ScalarType.BFloat16],
        })
        {
            string name = dtype == torch.ScalarType.Float32 ? "float32" : "bfloat16";
            MeasureClip($"CLIP-L {name}", ClipL, dtype);
            MeasureClip($"CLIP-G {name}", ClipG, dtype);
            MeasureT5($"T5-XXL {name}", t5Blocks, dtype);
        }
        Console.WriteLine($"peak resident memory {PeakMemory.Format(PeakMemory.PeakBytes())}");
        return Task.FromResult(0);
    }

    private static void MeasureClip(string label, ClipTextConfig config, torch.ScalarType dtype)
    {
        torch.manual_seed(0);
        using var model = new ClipTextModelWithProjection(config, dtype, torch.CPU);
        using torch.Tensor ids = torch.randint(0, config.VocabSize - 1, [Batch, config.MaxPositionEmbeddings]);
        double seconds = Time(() => model.forward(ids).Dispose());
        double flops = Batch * LayerFlops(config.MaxPositionEmbeddings, config.HiddenSize, 4L * config.HiddenSize *
            config.HiddenSize + 2L * config.HiddenSize * config.IntermediateSize) * config.NumHiddenLayers;
        Report(label, seconds, flops, "");
    }

    private static void MeasureT5(string label, int blocks, torch.ScalarType dtype)
    {
        const int length = 256;
        T5EncoderConfig config = T5Xxl(blocks);
        torch.manual_seed(0);
        using var model = new T5EncoderModel(config, dtype, torch.CPU);
        using torch.Tensor ids = torch.randint(0, config.VocabSize - 1, [Batch, length]);
        double seconds = Time(() => model.forward(ids).Dispose()) * T5Blocks / blocks;
        long inner = (long)config.NumHeads * config.DKv;
        double flops = Batch * LayerFlops(length, inner, 4L * config.DModel * inner +
            3L * config.DModel * config.DFf) * T5Blocks;
        Report(label, seconds, flops, blocks < T5Blocks
            ? $" (extrapolated from {blocks} of {T5Blocks} blocks at {length} tokens)"
            : $" ({length} tokens)");
    }

    /// <summary>
    /// Multiply-adds of one layer for one sequence, counted as two operations each: the weight matrices for every
    /// token, and the two attention products (scores and weighted values) over all token pairs.
    /// </summary>
    private static double LayerFlops(long tokens, long attentionWidth, long weightsPerToken) =>
        2.0 * tokens * weightsPerToken + 2.0 * 2.0 * tokens * tokens * attentionWidth;

    /// <summary>Median of three timed runs after one warm-up run, in seconds.</summary>
    private static double Time(Action run)
    {
        run();
        var seconds = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            seconds.Add(watch.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        return seconds[1];
    }

    private static void Report(string label, double seconds, double flops, string note) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-16} {seconds,8:F2} s for {Batch} prompts  {flops / seconds / 1e9,7:F1} GFLOP/s{note}"));

    private static string? Option(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
