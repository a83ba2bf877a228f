using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// The VAE decoder of the reference chapter: Dense 7*7*64 (ReLU), reshape, ConvTranspose 64 (3x3, stride 2, same,
/// ReLU), ConvTranspose 32 (3x3, stride 2, same, ReLU), Conv C (3x3, same). 65,089 parameters for a 2-D latent and
/// 28x28x1 images. <see cref="forward"/> returns logits; the chapter's sigmoid is applied by
/// <see cref="Vae.Decode"/>, and the loss works on logits, which is exact and numerically safer.
/// </summary>
public sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    private const int Kernel = 3;
    private const int Stride = 2;

    private readonly Linear dense;
    private readonly ConvTranspose2d deconv1;
    private readonly ConvTranspose2d deconv2;
    private readonly Conv2d conv_out;
    private readonly int _bottleneckSize;

    /// <summary>Creates the layers for <paramref name="config"/> (validated by the caller).</summary>
    public VaeDecoder(VaeConfig config) : base(nameof(VaeDecoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        _bottleneckSize = config.BottleneckSize;
        dense = nn.Linear(config.LatentDim, (long)VaeConfig.SecondChannels * _bottleneckSize * _bottleneckSize);
        // Padding 0: the full transposed result is cropped to Keras' "same" output in forward (bottom/right).
        deconv1 = nn.ConvTranspose2d(VaeConfig.SecondChannels, VaeConfig.SecondChannels, Kernel, stride: Stride);
        deconv2 = nn.ConvTranspose2d(VaeConfig.SecondChannels, VaeConfig.FirstChannels, Kernel, stride: Stride);
        // Stride 1 "same" is symmetric, so PyTorch's padding 1 is exactly Keras'.
        conv_out = nn.Conv2d(VaeConfig.FirstChannels, config.Channels, Kernel, padding: 1);
        RegisterComponents();
    }

    /// <summary>Decodes latents [B, latent] to logits [B, C, H, W]; sigmoid of them is the image.</summary>
    public override Tensor forward(Tensor latents)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = nn.functional.relu(dense.forward(latents));
        hidden = hidden.view(-1, VaeConfig.SecondChannels, _bottleneckSize, _bottleneckSize); // [B, 64, H/4, W/4]
        hidden = nn.functional.relu(UpsampleSame(deconv1, hidden)); // [B, 64, H/2, W/2]
        hidden = nn.functional.relu(UpsampleSame(deconv2, hidden)); // [B, 32, H, W]
        return conv_out.forward(hidden).MoveToOuterDisposeScope();
    }

    private static Tensor UpsampleSame(ConvTranspose2d layer, Tensor input)
    {
        Tensor full = layer.forward(input); // [B, C', 2h + 1, 2w + 1]
        return KerasSamePadding.CropTransposed(full, input.shape[2], input.shape[3], Kernel, Stride);
    }
}
