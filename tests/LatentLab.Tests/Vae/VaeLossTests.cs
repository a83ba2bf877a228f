using LatentLab.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Vae;

public class VaeLossTests
{
    private static Tensor Matrix(float[] values, params long[] shape) => tensor(values).reshape(shape);

    [Fact]
    public void Zero_logits_and_a_known_posterior_give_the_hand_computed_loss()
    {
        // Two 1x2x2 images, logits 0: every pixel costs ln 2 whatever its target, so reconstruction = 4 ln 2.
        using Tensor logits = zeros(2, 1, 2, 2);
        using Tensor images = Matrix([0f, 1f, 0.5f, 0.25f, 1f, 1f, 0f, 0f], 2, 1, 2, 2);
        // KL per dimension -0.5 (1 + lv - m^2 - e^lv): (m 1, lv 0) -> 0.5; (0, 0) -> 0; (0, ln 2) -> 0.5 (1 - ln 2).
        using Tensor mean = Matrix([1f, 0f, 0f, 0f], 2, 2);
        using Tensor logVar = Matrix([0f, 0f, 0f, MathF.Log(2f)], 2, 2);

        (Tensor total, Tensor reconstruction, Tensor kl) =
            VaeLoss.Compute(logits, images, mean, logVar, KlReduction.Mean);
        double expectedKlMean = (0.5 + 0 + 0 + 0.5 * (1 - Math.Log(2))) / 4; // 0.163357
        Assert.Equal(4 * Math.Log(2), reconstruction.item<float>(), 1e-5);
        Assert.Equal(expectedKlMean, kl.item<float>(), 1e-6);
        Assert.Equal(4 * Math.Log(2) + expectedKlMean, total.item<float>(), 1e-5);

        (_, _, Tensor klSum) = VaeLoss.Compute(logits, images, mean, logVar, KlReduction.Sum);
        Assert.Equal((0.5 + 0.5 * (1 - Math.Log(2))) / 2, klSum.item<float>(), 1e-6); // 0.326713
    }

    [Fact]
    public void Reconstruction_matches_cross_entropy_of_sigmoid_computed_pixel_by_pixel()
    {
        float[] logitValues = [-3f, -0.5f, 0.2f, 4f, 1.5f, -1f, 0f, 2.5f, -2f, 0.7f, 3f, -4f];
        float[] targetValues = [0f, 0.3f, 1f, 1f, 0.9f, 0f, 0.5f, 0.1f, 0.2f, 1f, 0.6f, 0f];
        using Tensor logits = Matrix(logitValues, 3, 1, 2, 2);
        using Tensor images = Matrix(targetValues, 3, 1, 2, 2);

        // -[y ln p + (1 - y) ln(1 - p)] with p = sigmoid(l), summed over each image's 4 pixels, averaged over 3.
        double expected = 0;
        for (int i = 0; i < logitValues.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-logitValues[i]));
            expected -= targetValues[i] * Math.Log(p) + (1 - targetValues[i]) * Math.Log(1 - p);
        }
        expected /= 3;

        using Tensor zerosLatent = zeros(3, 2);
        (Tensor total, Tensor reconstruction, Tensor kl) =
            VaeLoss.Compute(logits, images, zerosLatent, zerosLatent, KlReduction.Mean);

        Assert.Equal(expected, reconstruction.item<float>(), 1e-4);
        Assert.Equal(0f, kl.item<float>()); // the posterior equals the prior
        Assert.Equal(reconstruction.item<float>(), total.item<float>());
    }
}
