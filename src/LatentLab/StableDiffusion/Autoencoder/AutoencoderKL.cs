using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// The decoding half of diffusers' <c>AutoencoderKL</c>: turns diffusion latents back into images. Module names
/// equal the checkpoint keys (<c>decoder.*</c>, <c>post_quant_conv.*</c>); the checkpoint's <c>encoder.*</c> and
/// <c>quant_conv.*</c> tensors are not used.
/// </summary>
/// <remarks>TODO(#4): the encoder (image-to-image) - text-to-image needs only the decoder.</remarks>
public sealed class AutoencoderKL : nn.Module
{
    private readonly Decoder decoder;
    private readonly Conv2d? post_quant_conv;

    /// <summary>Builds the decoder with freshly initialised weights.</summary>
    /// <exception cref="InvalidDataException">Sizes that do not fit together.</exception>
    /// <exception cref="NotSupportedException">Options this port does not implement.</exception>
    public AutoencoderKL(AutoencoderKLConfig config) : base(nameof(AutoencoderKL))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        decoder = new Decoder(config);
        post_quant_conv = config.UsePostQuantConv ? nn.Conv2d(config.LatentChannels, config.LatentChannels, 1) : null;
        RegisterComponents();
    }

    /// <summary>The sizes and latent statistics this model was built from.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>
    /// Maps a checkpoint key to this module's key: decoder keys unchanged, encoder keys dropped (null), so the
    /// weights loader can read a whole <c>vae/</c> checkpoint strictly.
    /// </summary>
    public static string? MapCheckpointKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.StartsWith("encoder.", StringComparison.Ordinal) || key.StartsWith("quant_conv.", StringComparison.Ordinal)
            ? null
            : key;
    }

    /// <summary>Decodes VAE-space latents z (already unscaled) to images.</summary>
    /// <param name="z">[B, latent_channels, h, w]</param>
    /// <returns>[B, out_channels, 8h, 8w] in about [-1, 1], in the model's dtype.</returns>
    public Tensor Decode(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        using var scope = NewDisposeScope();
        Tensor latents = z.to(decoder.ConvIn.weight!.dtype);
        if (post_quant_conv is not null) latents = post_quant_conv.forward(latents);
        return decoder.forward(latents).MoveToOuterDisposeScope();
    }

    /// <summary>Undoes the diffusion model's latent normalisation: z = latents / scaling_factor + shift_factor.</summary>
    public Tensor Unscale(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        return latents / Config.ScalingFactor + (Config.ShiftFactor ?? 0.0);
    }

    internal Decoder DecoderModule => decoder;
}
