using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>How a <see cref="StableDiffusion3"/> is loaded and run.</summary>
/// <param name="DType">Weight and compute dtype: BFloat16 (default; half the memory) or Float32. Norms and softmax
/// run in float32 either way; the VAE runs in float32 when its config says force_upcast.</param>
/// <param name="Device">cpu (default), cuda or cuda:N.</param>
/// <param name="UseT5">Load the T5 text encoder if the folder has one (default true). Off saves about 9 GB in
/// bfloat16; the T5 part of the prompt embedding is then zeros, as in the reference.</param>
/// <param name="MaxT5SequenceLength">T5 tokens per prompt, 1 to 512. Default 256, the reference's.</param>
/// <param name="ReleaseT5AfterEncoding">Free T5 after the first <see cref="StableDiffusion3.EncodeText(string, string)"/>
/// and read the transformer's weights only when denoising starts, so the two are never in memory together; later
/// encodings then have zeros for T5. Default false.</param>
public sealed record StableDiffusion3Options(
    ScalarType DType = ScalarType.BFloat16,
    string Device = "cpu",
    bool UseT5 = true,
    int MaxT5SequenceLength = 256,
    bool ReleaseT5AfterEncoding = false)
{
    /// <summary>The dtypes supported for weights and compute.</summary>
    public static IReadOnlyList<ScalarType> SupportedDTypes { get; } = [ScalarType.BFloat16, ScalarType.Float32];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (!SupportedDTypes.Contains(DType))
            throw new ArgumentException($"dtype {DType} is not supported; supported: bfloat16, float32");
        if (MaxT5SequenceLength is < 1 or > 512)
            throw new ArgumentException($"MaxT5SequenceLength must be 1 to 512, got {MaxT5SequenceLength}");
    }
}
