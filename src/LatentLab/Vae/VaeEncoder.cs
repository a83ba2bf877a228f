using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// The VAE encoder of the reference chapter: Conv 32 (3x3, stride 2, same, ReLU), Conv 64 (3x3, stride 2, same,
/// ReLU), flatten, Dense 16 (ReLU), then two Dense heads of size latent_dim giving the mean and the log-variance of
/// q(z | x). 69,076 parameters for 28x28x1 images and a 2-D latent.
/// </summary>
/// <remarks>
/// Flattening is channels-first ([C, H, W] order), so dense weights do not load from a channels-last Keras model
/// without a permutation; everything else matches Keras, including its asymmetric "same" padding.
/// </remarks>
public sealed class VaeEncoder : nn.Module<Tensor, (Tensor Mean, Tensor LogVar)>
{
    private const int Kernel = 3;
    private const int Stride = 2;

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear dense;
    private readonly Linear z_mean;
    private readonly Linear z_log_var;

    /// <summary>Creates the layers for <paramref name="config"/> (validated by the caller).</summary>
    public VaeEncoder(VaeConfig config) : base(nameof(VaeEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        // Padding 0 here: the Keras "same" padding is applied explicitly in forward (bottom/right).
        conv1 = nn.Conv2d(config.Channels, VaeConfig.FirstChannels, Kernel, stride: Stride);
        conv2 = nn.Conv2d(VaeConfig.FirstChannels, VaeConfig.SecondChannels, Kernel, stride: Stride);
        long flat = (long)VaeConfig.SecondChannels * config.BottleneckSize * config.BottleneckSize;
        dense = nn.Linear(flat, VaeConfig.HiddenWidth);
        z_mean = nn.Linear(VaeConfig.HiddenWidth, config.LatentDim);
        z_log_var = nn.Linear(VaeConfig.HiddenWidth, config.LatentDim);
        RegisterComponents();
    }

    /// <summary>Encodes images [B, C, H, W] in [0, 1] to q(z | x): mean and log-variance, each [B, latent].</summary>
    public override (Tensor Mean, Tensor LogVar) forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = nn.functional.relu(conv1.forward(KerasSamePadding.PadForConvolution(images, Kernel, Stride)));
        hidden = nn.functional.relu(conv2.forward(KerasSamePadding.PadForConvolution(hidden, Kernel, Stride)));
        hidden = hidden.flatten(1); // [B, 64 * H/4 * W/4]
        hidden = nn.functional.relu(dense.forward(hidden));
        Tensor mean = z_mean.forward(hidden);
        Tensor logVar = z_log_var.forward(hidden);
        return (mean.MoveToOuterDisposeScope(), logVar.MoveToOuterDisposeScope());
    }
}
