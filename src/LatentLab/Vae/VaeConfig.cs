using System.Text.Json.Serialization;

namespace LatentLab.Vae;

/// <summary>
/// The shape of a <see cref="Vae"/>: a square image of <see cref="ImageSize"/> pixels with <see cref="Channels"/>
/// channels, encoded to <see cref="LatentDim"/> numbers. Saved as <c>config.json</c> beside the weights.
/// </summary>
/// <param name="LatentDim">Latent dimensions; default 2, the chapter's, which can be drawn as a plane.</param>
/// <param name="ImageSize">Image side in pixels; must be divisible by 4 (two stride-2 layers). Default 28.</param>
/// <param name="Channels">1 (grayscale, default) or 3 (RGB).</param>
/// <param name="KlReduction">How the KL term is reduced; default <see cref="KlReduction.Mean"/>.</param>
public sealed record VaeConfig(
    [property: JsonPropertyName("latent_dim")] int LatentDim = 2,
    [property: JsonPropertyName("image_size")] int ImageSize = 28,
    [property: JsonPropertyName("channels")] int Channels = 1,
    [property: JsonPropertyName("kl_reduction")] KlReduction KlReduction = KlReduction.Mean)
{
    /// <summary>Channels of the first and second encoder convolutions (and the decoder's mirror).</summary>
    public const int FirstChannels = 32;

    /// <summary>Channels of the second encoder convolution and of the decoder's dense output.</summary>
    public const int SecondChannels = 64;

    /// <summary>Width of the encoder's hidden dense layer.</summary>
    public const int HiddenWidth = 16;

    /// <summary>Side of the smallest feature map: the image side after two stride-2 convolutions.</summary>
    [JsonIgnore]
    public int BottleneckSize => ImageSize / 4;

    /// <summary>Throws when a value is out of range; called wherever a config is consumed.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        if (LatentDim is < 1 or > 4096)
        {
            throw new ArgumentException($"latent_dim must be 1 to 4096, got {LatentDim}.");
        }
        if (ImageSize < 4 || ImageSize > 1024 || ImageSize % 4 != 0)
        {
            throw new ArgumentException($"image_size must be a multiple of 4 from 4 to 1024, got {ImageSize}.");
        }
        if (Channels is not (1 or 3))
        {
            throw new ArgumentException($"channels must be 1 or 3, got {Channels}.");
        }
        if (!Enum.IsDefined(KlReduction))
        {
            throw new ArgumentException($"kl_reduction must be mean or sum, got {KlReduction}.");
        }
    }
}
