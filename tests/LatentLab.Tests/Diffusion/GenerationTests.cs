using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class GenerationTests
{
    private static readonly float[] UnitX = [1f, 0f];
    private static readonly float[] UnitY = [0f, 1f];

    private static bool Identical(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && (a - b).abs().max().item<float>() == 0;

    private static DiffusionModel NonTrivialModel()
    {
        DiffusionModel model = TinyDiffusion.Model(6);
        using (no_grad())
        {
            foreach ((string name, var parameter) in model.named_parameters())
                if (name == "network.conv_out.weight") parameter.normal_(0, 0.1);
        }
        return model;
    }

    [Fact]
    public void Same_seed_gives_identical_images_and_another_seed_does_not()
    {
        using DiffusionModel model = NonTrivialModel();
        using Tensor first = model.Generate(model.InitialNoise(3, new Generator(7)), steps: 5);
        using Tensor second = model.Generate(model.InitialNoise(3, new Generator(7)), steps: 5);
        using Tensor other = model.Generate(model.InitialNoise(3, new Generator(8)), steps: 5);
        Assert.Equal(new long[] { 3, 1, 8, 8 }, first.shape);
        Assert.True(Identical(first, second));
        Assert.False(Identical(first, other));
        Assert.True(first.min().item<float>() >= 0 && first.max().item<float>() <= 1);
    }

    [Fact]
    public void Reverse_trajectory_starts_at_the_noise_and_ends_at_the_sample()
    {
        using DiffusionModel model = NonTrivialModel();
        using Tensor noise = model.InitialNoise(2, new Generator(9));
        var trajectory = new List<Tensor>();
        using Tensor images = model.Generate(noise, steps: 4, trajectory);
        Assert.Equal(5, trajectory.Count);
        using Tensor noisePixels = model.ToPixels(noise);
        Assert.True(Identical(trajectory[0], noisePixels));
        Assert.True(Identical(trajectory[^1], images));
        foreach (Tensor frame in trajectory) frame.Dispose();
    }

    [Fact]
    public void One_step_generation_is_the_predicted_image_at_time_one()
    {
        using DiffusionModel model = TinyDiffusion.Model(10);
        // An untrained model predicts zero noise, so one step returns noise / signal_rate(1) de-normalised.
        using Tensor noise = model.InitialNoise(1, new Generator(3));
        using Tensor images = model.Generate(noise, steps: 1);
        using Tensor expected = (noise / 0.02).clamp(0, 1);
        Assert.True((images - expected).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Slerp_hits_its_endpoints_and_keeps_the_norm_of_orthogonal_noises()
    {
        using Tensor a = tensor(UnitX);
        using Tensor b = tensor(UnitY);
        using Tensor start = DiffusionModel.Slerp(a, b, 0);
        using Tensor end = DiffusionModel.Slerp(a, b, 1);
        using Tensor middle = DiffusionModel.Slerp(a, b, 0.5);
        Assert.True((start - a).abs().max().item<float>() < 1e-6);
        Assert.True((end - b).abs().max().item<float>() < 1e-6);
        Assert.Equal(1.0, middle.norm().item<float>(), 5);
        Assert.Equal(Math.Sqrt(0.5), middle[0].item<float>(), 5);
    }
}
