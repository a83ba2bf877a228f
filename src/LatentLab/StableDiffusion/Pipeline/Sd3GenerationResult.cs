using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>Pictures made by <c>StableDiffusion3.Generate</c>, with the seed that reproduces them.</summary>
public sealed class Sd3GenerationResult : IDisposable
{
    internal Sd3GenerationResult(Tensor images, Tensor? latents, long seed)
    {
        Images = images;
        Latents = latents;
        Seed = seed;
    }

    /// <summary>[N, 3, H, W] float32 in [0, 1] on the CPU (the reference's output before 8-bit rounding).</summary>
    public Tensor Images { get; }

    /// <summary>[N, C, H/8, W/8] final latents (float32, CPU) when asked for, else null.</summary>
    public Tensor? Latents { get; }

    /// <summary>The seed of the initial noise (given, or drawn when none was given).</summary>
    public long Seed { get; }

    public void Dispose()
    {
        Images.Dispose();
        Latents?.Dispose();
    }
}
