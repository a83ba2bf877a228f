using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// The VAE loss: reconstruction (binary cross-entropy summed over every pixel value of an image, averaged over the
/// batch) plus the KL divergence of q(z | x) = N(mean, exp(log_var)) from N(0, I), reduced as configured.
/// </summary>
/// <remarks>
/// Per latent dimension KL = -0.5 * (1 + log_var - mean^2 - exp(log_var)). The chapter averages it over the batch
/// and the latent dimensions (<see cref="KlReduction.Mean"/>); keras.io sums over latent dimensions
/// (<see cref="KlReduction.Sum"/>). Cross-entropy is computed from logits, which equals Keras' clipped
/// probability form up to its 1e-7 clipping and does not saturate.
/// </remarks>
public static class VaeLoss
{
    /// <summary>Computes the loss of one batch; all three results are scalars, total = reconstruction + KL.</summary>
    /// <param name="logits">Decoder logits [B, C, H, W].</param>
    /// <param name="images">Targets [B, C, H, W] in [0, 1].</param>
    /// <param name="mean">Posterior mean [B, latent].</param>
    /// <param name="logVar">Posterior log-variance [B, latent].</param>
    /// <param name="reduction">How the KL term is reduced over latent dimensions.</param>
    public static (Tensor Total, Tensor Reconstruction, Tensor Kl) Compute(
        Tensor logits, Tensor images, Tensor mean, Tensor logVar, KlReduction reduction)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        Tensor reconstruction = ReconstructionPerImage(logits, images).mean();
        Tensor klPerDimension = KlPerDimension(mean, logVar); // [B, latent]
        Tensor kl = reduction switch
        {
            KlReduction.Mean => klPerDimension.mean(),
            KlReduction.Sum => klPerDimension.sum(1).mean(),
            _ => throw new ArgumentException($"unknown KL reduction {reduction}; expected Mean or Sum."),
        };
        Tensor total = reconstruction + kl;
        return (total.MoveToOuterDisposeScope(), reconstruction.MoveToOuterDisposeScope(),
            kl.MoveToOuterDisposeScope());
    }

    /// <summary>Binary cross-entropy summed over each image's values, in nats: [B].</summary>
    public static Tensor ReconstructionPerImage(Tensor logits, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(logits);
        using Tensor perValue = nn.functional.binary_cross_entropy_with_logits(logits, images,
            reduction: nn.Reduction.None);
        return perValue.flatten(1).sum(1);
    }

    /// <summary>KL(N(mean, exp(log_var)) || N(0, 1)) for each latent dimension: [B, latent].</summary>
    public static Tensor KlPerDimension(Tensor mean, Tensor logVar)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVar);
        using var scope = NewDisposeScope();
        Tensor kl = -0.5 * (1 + logVar - mean.square() - logVar.exp());
        return kl.MoveToOuterDisposeScope();
    }
}
