using System.Text.Json.Serialization;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// The VAE's sizes and latent statistics, named as the keys of diffusers' <c>vae/config.json</c>.
/// SD3 Medium: 16 latent channels, block_out_channels [128, 256, 512, 512], 2 layers per block, 32 groups,
/// no quant convs, scaling 1.5305, shift 0.0609.
/// </summary>
/// <param name="InChannels">Image channels into the encoder. Default 3.</param>
/// <param name="OutChannels">Image channels out of the decoder. Default 3.</param>
/// <param name="UpBlockTypes">Decoder block kinds; only UpDecoderBlock2D exists in this family.</param>
/// <param name="BlockOutChannels">Channels per resolution level, finest first; the decoder walks them in reverse.</param>
/// <param name="LayersPerBlock">Resnets per encoder level; the decoder uses one more. Default 1.</param>
/// <param name="ActFn">Activation; only silu is used by SD models. Default silu.</param>
/// <param name="LatentChannels">Latent channels. Default 4 (SD3: 16).</param>
/// <param name="NormNumGroups">Groups of every group norm. Default 32.</param>
/// <param name="ScalingFactor">Latents are scaled by this for the diffusion model. Default 0.18215.</param>
/// <param name="ShiftFactor">Latents are shifted by this before scaling (SD3); null means 0.</param>
/// <param name="LatentsMean">Per-channel latent statistics (SDXL-style); only null is supported.</param>
/// <param name="LatentsStd">Per-channel latent statistics (SDXL-style); only null is supported.</param>
/// <param name="ForceUpcast">Run the VAE in float32 even when the pipeline uses a 16-bit dtype. Default true.</param>
/// <param name="UsePostQuantConv">Whether a 1x1 conv precedes the decoder. Default true (SD3: false).</param>
/// <param name="MidBlockAddAttention">Whether the middle block has self-attention. Default true.</param>
public sealed record AutoencoderKLConfig(
    [property: JsonPropertyName("in_channels")] int InChannels = 3,
    [property: JsonPropertyName("out_channels")] int OutChannels = 3,
    [property: JsonPropertyName("up_block_types")] IReadOnlyList<string>? UpBlockTypes = null,
    [property: JsonPropertyName("block_out_channels")] IReadOnlyList<int>? BlockOutChannels = null,
    [property: JsonPropertyName("layers_per_block")] int LayersPerBlock = 1,
    [property: JsonPropertyName("act_fn")] string ActFn = "silu",
    [property: JsonPropertyName("latent_channels")] int LatentChannels = 4,
    [property: JsonPropertyName("norm_num_groups")] int NormNumGroups = 32,
    [property: JsonPropertyName("scaling_factor")] double ScalingFactor = 0.18215,
    [property: JsonPropertyName("shift_factor")] double? ShiftFactor = null,
    [property: JsonPropertyName("latents_mean")] IReadOnlyList<double>? LatentsMean = null,
    [property: JsonPropertyName("latents_std")] IReadOnlyList<double>? LatentsStd = null,
    [property: JsonPropertyName("force_upcast")] bool ForceUpcast = true,
    [property: JsonPropertyName("use_post_quant_conv")] bool UsePostQuantConv = true,
    [property: JsonPropertyName("mid_block_add_attention")] bool MidBlockAddAttention = true)
{
    /// <summary>The diffusers class name this config belongs to.</summary>
    public const string ClassName = "AutoencoderKL";

    private const string UpDecoderBlock = "UpDecoderBlock2D";

    /// <summary>Channels per level, diffusers' default [64] when absent.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> ResolvedBlockOutChannels => BlockOutChannels ?? [64];

    /// <summary>Pixels per latent along each side: 2^(levels - 1).</summary>
    [JsonIgnore]
    public int ScaleFactor => 1 << (ResolvedBlockOutChannels.Count - 1);

    /// <summary>Reads and validates <c>vae/config.json</c>.</summary>
    /// <exception cref="InvalidDataException">Not a valid config, or sizes that do not fit together.</exception>
    /// <exception cref="NotSupportedException">Another class or an option this port does not implement.</exception>
    public static AutoencoderKLConfig Load(string path)
    {
        var config = ComponentConfigFile.Load<AutoencoderKLConfig>(path, ClassName);
        config.Validate(path);
        return config;
    }

    /// <summary>Throws if a size is out of range or an option is not implemented.</summary>
    public void Validate(string source = "vae config")
    {
        IReadOnlyList<int> channels = ResolvedBlockOutChannels;
        if (channels.Count == 0 || channels.Any(count => count < 1 || count % NormNumGroups != 0))
        {
            throw new InvalidDataException(
                $"{source}: block_out_channels must be positive multiples of norm_num_groups ({NormNumGroups}), " +
                $"got [{string.Join(", ", channels)}]");
        }
        if (LatentChannels < 1 || OutChannels < 1 || LayersPerBlock < 0 || NormNumGroups < 1)
            throw new InvalidDataException($"{source}: latent_channels, out_channels, norm_num_groups must be positive");
        if (!(ScalingFactor > 0))
            throw new InvalidDataException($"{source}: scaling_factor must be positive, got {ScalingFactor}");
        if (ActFn != "silu")
            throw new NotSupportedException($"{source}: act_fn '{ActFn}' is not supported; supported: silu");
        if (UpBlockTypes is not null && UpBlockTypes.Any(type => type != UpDecoderBlock))
        {
            throw new NotSupportedException(
                $"{source}: up_block_types [{string.Join(", ", UpBlockTypes)}] not supported; supported: {UpDecoderBlock}");
        }
        if (UpBlockTypes is not null && UpBlockTypes.Count != channels.Count)
            throw new InvalidDataException($"{source}: up_block_types and block_out_channels differ in length");
        if (LatentsMean is not null || LatentsStd is not null)
        {
            throw new NotSupportedException(
                $"{source}: per-channel latents_mean/latents_std are not supported; supported: scaling_factor and shift_factor");
        }
    }
}
