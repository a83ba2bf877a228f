using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Pipeline;

public class PromptWalkTests
{
    [Fact]
    public void A_loop_visits_every_leg_once_and_never_repeats_a_frame()
    {
        IReadOnlyList<(int From, int To, double T)> frames = PromptWalk.Loop(3, 4);
        Assert.Equal(12, frames.Count);
        Assert.Equal((0, 1, 0.0), frames[0]);
        Assert.Equal((0, 1, 0.75), frames[3]);
        Assert.Equal((1, 2, 0.0), frames[4]);
        Assert.Equal((2, 0, 0.75), frames[^1]);   // the last leg returns to the first prompt
        Assert.Equal(12, frames.Distinct().Count());
    }

    [Fact]
    public void Mixed_noise_hits_both_draws_and_keeps_a_unit_normal_norm_on_the_way()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        torch.Tensor first = torch.randn(200_000);
        torch.Tensor second = torch.randn(200_000);
        TensorAssert.Equal(first, PromptWalk.MixNoise(first, second, 0));
        TensorAssert.Close(second, PromptWalk.MixNoise(first, second, Math.PI / 2), 1e-6, 0);
        foreach (double angle in new[] { Math.PI / 4, 1.0, 2.5 })
        {
            double std = PromptWalk.MixNoise(first, second, angle).std().item<float>();
            Assert.InRange(std, 0.99, 1.01);
        }
        // A straight line's midpoint would have lost norm: that is what the circle avoids.
        double linearMidpoint = ((first + second) / 2).std().item<float>();
        Assert.InRange(linearMidpoint, 0.69, 0.72);
    }

    [Fact]
    public void Stack_and_select_round_trip_a_batch()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        var one = new Sd3TextEmbeddings(torch.randn(1, 4, 6), torch.randn(1, 4, 6), torch.randn(1, 5), torch.randn(1, 5));
        var two = new Sd3TextEmbeddings(torch.randn(1, 4, 6), torch.randn(1, 4, 6), torch.randn(1, 5), torch.randn(1, 5));
        using Sd3TextEmbeddings both = PromptWalk.Stack([one, two]);
        Assert.Equal(2, both.BatchSize);
        using Sd3TextEmbeddings second = PromptWalk.Select(both, 1);
        TensorAssert.Equal(two.PromptEmbeds, second.PromptEmbeds);
        TensorAssert.Equal(two.NegativePooledPromptEmbeds, second.NegativePooledPromptEmbeds);
    }
}
