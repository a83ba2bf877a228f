using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class DiffusionLossTests
{
    [Fact]
    public void Losses_with_a_constant_noise_prediction_match_a_scalar_loop()
    {
        using DiffusionModel model = TinyDiffusion.Model(3);
        // Zero kernel and bias 0.5 in the last conv: the network predicts 0.5 everywhere.
        using (no_grad())
        {
            foreach ((string name, var parameter) in model.named_parameters())
                if (name == "network.conv_out.bias") parameter.fill_(0.5);
        }
        float[] imageValues = Enumerable.Range(0, 2 * 64).Select(i => (i % 7 - 3) / 3f).ToArray();
        float[] noiseValues = Enumerable.Range(0, 2 * 64).Select(i => (i % 5 - 2) / 1.5f).ToArray();
        double[] noiseRateValues = [0.3, 0.8];
        double[] signalRateValues = noiseRateValues.Select(rate => Math.Sqrt(1 - rate * rate)).ToArray();
        using Tensor images = tensor(imageValues).reshape(2, 1, 8, 8);
        using Tensor noises = tensor(noiseValues).reshape(2, 1, 8, 8);
        using Tensor noiseRates = tensor(noiseRateValues.Select(v => (float)v).ToArray()).reshape(2, 1, 1, 1);
        using Tensor signalRates = tensor(signalRateValues.Select(v => (float)v).ToArray()).reshape(2, 1, 1, 1);

        (Tensor noiseLoss, Tensor imageLoss) = model.Losses(images, noises, noiseRates, signalRates);

        // By hand: noise error |n - 0.5|; predicted image (s x + σ n − σ 0.5) / s, so image error σ/s |n − 0.5|.
        double expectedNoise = 0, expectedImage = 0;
        for (int i = 0; i < 128; i++)
        {
            int b = i / 64;
            expectedNoise += Math.Abs(noiseValues[i] - 0.5);
            expectedImage += noiseRateValues[b] / signalRateValues[b] * Math.Abs(noiseValues[i] - 0.5);
        }
        Assert.Equal(expectedNoise / 128, noiseLoss.item<float>(), 5);
        Assert.Equal(expectedImage / 128, imageLoss.item<float>(), 5);
        noiseLoss.Dispose();
        imageLoss.Dispose();
    }

    [Fact]
    public void First_training_step_reports_the_loss_of_its_own_noise_draws()
    {
        using DiffusionModel model = TinyDiffusion.Model(4);
        using var optimizer = new DiffusionOptimizer(model, seed: 11);
        using Tensor images = rand(3, 1, 8, 8, generator: new Generator(5));

        DiffusionStepResult result = optimizer.Step(images);

        // At initialisation the network predicts zero noise, so the noise loss is the mean |noise| of the draws;
        // the step draws the noise first, then the times, from its generator seeded with 11.
        using var replay = new Generator(11);
        using Tensor noises = randn(new long[] { 3, 1, 8, 8 }, generator: replay);
        float[] values = noises.data<float>().ToArray();
        double expected = values.Select(Math.Abs).Average();
        Assert.Equal(expected, result.NoiseLoss, 5);
        Assert.Equal(1e-3, result.LearningRate, 15);
        Assert.Equal(1, optimizer.Iterations);
        // The zero-initialised last conv got a gradient, so the weights moved off zero.
        float outWeight = model.named_parameters().First(p => p.name == "network.conv_out.weight").parameter
            .abs().max().item<float>();
        Assert.True(outWeight > 0);
    }
}
