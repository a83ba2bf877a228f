using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Keras's <c>Normalization</c> layer as the chapter uses it: a per-channel mean and (population) variance adapted
/// on the training images, saved with the model so generated images can be mapped back to pixel values.
/// </summary>
public sealed class ImageNormalizer : nn.Module<Tensor, Tensor>
{
    // Keras divides by max(sqrt(variance), epsilon) with its backend epsilon.
    private const double Epsilon = 1e-7;

    private readonly Tensor mean;
    private readonly Tensor variance;

    /// <summary>Creates an identity normaliser (mean 0, variance 1) for <paramref name="channels"/> channels.</summary>
    public ImageNormalizer(int channels) : base(nameof(ImageNormalizer))
    {
        mean = zeros(1, channels, 1, 1);
        variance = ones(1, channels, 1, 1);
        register_buffer(nameof(mean), mean);
        register_buffer(nameof(variance), variance);
    }

    /// <summary>Per-channel mean, shape [1, C, 1, 1].</summary>
    public Tensor Mean => mean;

    /// <summary>Per-channel population variance, shape [1, C, 1, 1].</summary>
    public Tensor Variance => variance;

    /// <summary>
    /// Adapts mean and variance over every pixel of every batch (pixel values as given, e.g. in [0, 1]).
    /// Sums in float64 so ten thousand batches do not lose precision.
    /// </summary>
    public void Adapt(IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        using var scope = NewDisposeScope();
        int channels = (int)mean.shape[1];
        Tensor sum = zeros(channels, dtype: float64);
        Tensor sumOfSquares = zeros(channels, dtype: float64);
        long count = 0;
        foreach (Tensor batch in batches)
        {
            using var batchScope = NewDisposeScope();
            Tensor values = batch.to(float64);
            sum.add_(values.sum([0, 2, 3]));
            sumOfSquares.add_(values.square().sum([0, 2, 3]));
            count += batch.shape[0] * batch.shape[2] * batch.shape[3];
        }
        if (count == 0) throw new ArgumentException("normaliser: no images to adapt on.");
        Tensor channelMean = sum / count;
        Tensor channelVariance = (sumOfSquares / count - channelMean.square()).clamp_min(0);
        using (no_grad())
        {
            mean.copy_(channelMean.to(float32).reshape(1, channels, 1, 1));
            variance.copy_(channelVariance.to(float32).reshape(1, channels, 1, 1));
        }
    }

    /// <summary>(images - mean) / max(sqrt(variance), 1e-7); images [B, C, H, W].</summary>
    public override Tensor forward(Tensor images) => (images - mean) / variance.sqrt().clamp_min(Epsilon);

    /// <summary>The chapter's inverse: mean + images * sqrt(variance).</summary>
    public Tensor Denormalize(Tensor images) => mean + images * variance.sqrt();
}
