using LatentLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// Measures a VAE on held-out images: the negative ELBO with its two parts, and the importance-weighted estimate of
/// the negative log-likelihood with k samples.
/// </summary>
/// <remarks>
/// The decoder's Bernoulli likelihood is evaluated on grayscale targets in [0, 1], as in training; for
/// non-binary images that is a cross-entropy rather than a normalised log-density, so the figures compare models
/// on the same data but not with published NLLs on binarised MNIST.
/// </remarks>
public static class VaeEvaluator
{
    private static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    /// <summary>Evaluates <paramref name="vae"/> on every image of <paramref name="data"/>.</summary>
    /// <param name="vae">The model.</param>
    /// <param name="data">Held-out images matching the model's channels and size.</param>
    /// <param name="importanceSamples">k, at least 1 (k = 1 gives the ELBO again, with fresh noise).</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="seed">Seeds the posterior samples.</param>
    /// <param name="progress">Receives the number of images done.</param>
    /// <param name="cancellationToken">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    public static VaeEvaluation Evaluate(Vae vae, ImageSet data, int importanceSamples = 100, int batchSize = 256,
        long seed = 0, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(importanceSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count == 0) throw new ArgumentException("the evaluation data holds no images.");
        if (data.Channels != vae.Config.Channels || data.Height != vae.Config.ImageSize ||
            data.Width != vae.Config.ImageSize)
        {
            throw new ArgumentException(
                $"the images are {data.Channels}x{data.Height}x{data.Width} but the model expects " +
                $"{vae.Config.Channels}x{vae.Config.ImageSize}x{vae.Config.ImageSize}.");
        }

        using var generator = new Generator(unchecked((ulong)seed), vae.Device);
        using var noGrad = no_grad();
        double reconstructionSum = 0, klSum = 0, nllSum = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batchSize, data.Count - start);
            using var scope = NewDisposeScope();
            Tensor images = data.ToTensor(start, count).to(vae.Device); // [B, C, H, W]
            (Tensor mean, Tensor logVar) = vae.EncodeWithGradients(images);

            // 1. ELBO with one sample: E_q[-log p(x|z)] + KL, both summed per image.
            Tensor latents = Vae.SampleLatents(mean, logVar, generator);
            reconstructionSum += VaeLoss.ReconstructionPerImage(vae.DecodeLogits(latents), images)
                .to_type(ScalarType.Float64).sum().item<double>();
            klSum += VaeLoss.KlPerDimension(mean, logVar).to_type(ScalarType.Float64).sum().item<double>();

            // 2. Importance weights log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), one sample at a time.
            var logWeights = new List<Tensor>(importanceSamples);
            for (int sample = 0; sample < importanceSamples; sample++)
            {
                // Each sample's activations are freed at once; only its [B] weights survive.
                using var sampleScope = NewDisposeScope();
                Tensor z = Vae.SampleLatents(mean, logVar, generator);
                Tensor logLikelihood = -VaeLoss.ReconstructionPerImage(vae.DecodeLogits(z), images);
                Tensor logPrior = -0.5 * (z.square() + LogTwoPi).sum(1);
                Tensor logPosterior = -0.5 * ((z - mean).square() / logVar.exp() + logVar + LogTwoPi).sum(1);
                logWeights.Add((logLikelihood + logPrior - logPosterior).MoveToOuterDisposeScope()); // [B]
            }
            Tensor stacked = stack(logWeights); // [k, B]
            Tensor logMarginal = stacked.logsumexp(0) - Math.Log(importanceSamples); // [B]
            nllSum -= logMarginal.to_type(ScalarType.Float64).sum().item<double>();
            progress?.Report(start + count);
        }
        return new VaeEvaluation(data.Count, (reconstructionSum + klSum) / data.Count, reconstructionSum / data.Count,
            klSum / data.Count, importanceSamples, nllSum / data.Count);
    }
}
