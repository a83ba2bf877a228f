using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Pipeline;

public class PromptInterpolationTests
{
    [Fact]
    public void Slerp_between_orthogonal_unit_vectors_follows_the_circle()
    {
        // Hand-worked: the angle is 90 degrees, so t turns (1, 0) by t * 90 degrees towards (0, 1).
        using torch.Tensor x = torch.tensor(new[] { 1f, 0f });
        using torch.Tensor y = torch.tensor(new[] { 0f, 1f });

        using torch.Tensor third = PromptInterpolation.Slerp(1.0 / 3, x, y);
        using torch.Tensor half = PromptInterpolation.Slerp(0.5, x, y);

        using torch.Tensor expectedThird = torch.tensor(new[] { MathF.Sqrt(3) / 2, 0.5f });
        using torch.Tensor expectedHalf = torch.tensor(new[] { MathF.Sqrt(0.5f), MathF.Sqrt(0.5f) });
        TensorAssert.Close(expectedThird, third, 1e-6, 0, "t = 1/3");
        TensorAssert.Close(expectedHalf, half, 1e-6, 0, "t = 1/2");
    }

    [Fact]
    public void Slerp_uses_one_angle_for_the_whole_tensor()
    {
        // As flat vectors (1, 0, 0, 0) and (0, 0, 0, 2): 90 degrees apart, lengths 1 and 2.
        using torch.Tensor x = torch.tensor(new[] { 1f, 0f, 0f, 0f }, [2, 2]);
        using torch.Tensor y = torch.tensor(new[] { 0f, 0f, 0f, 2f }, [2, 2]);

        using torch.Tensor half = PromptInterpolation.Slerp(0.5, x, y);

        float weight = MathF.Sin(MathF.PI / 4); // sin(45 deg) / sin(90 deg)
        using torch.Tensor expected = torch.tensor(new[] { weight, 0f, 0f, 2 * weight }, [2, 2]);
        TensorAssert.Close(expected, half, 1e-6, 0);
    }

    [Fact]
    public void Slerp_returns_the_endpoints_exactly_at_0_and_1()
    {
        torch.manual_seed(3);
        using torch.Tensor x = torch.randn(3, 5, 4);
        using torch.Tensor y = torch.randn(3, 5, 4);

        using torch.Tensor atStart = PromptInterpolation.Slerp(0, x, y);
        using torch.Tensor atEnd = PromptInterpolation.Slerp(1, x, y);

        TensorAssert.Equal(x, atStart);
        TensorAssert.Equal(y, atEnd);
    }

    [Theory]
    [InlineData("equal")]
    [InlineData("opposite")]
    [InlineData("nearly parallel")]
    [InlineData("zero")]
    public void Slerp_is_nan_free_where_the_angle_is_degenerate_and_then_interpolates_linearly(string kind)
    {
        torch.manual_seed(5);
        using torch.Tensor x = torch.randn(77, 16);
        using torch.Tensor y = kind switch
        {
            "equal" => x.clone(),
            "opposite" => -x,
            "nearly parallel" => x * 1.5f + torch.randn(77, 16) * 1e-4f,
            _ => torch.zeros(77, 16),
        };

        foreach (double t in (double[])[0.25, 0.5, 0.9])
        {
            using torch.Tensor mixed = PromptInterpolation.Slerp(t, x, y);

            Assert.False(mixed.isnan().any().item<bool>(), $"{kind}: NaN at t = {t}");
            using torch.Tensor linear = x + (y - x) * t;
            TensorAssert.Close(linear, mixed, 1e-5, 1e-5, $"{kind} at t = {t}");
        }
    }

    [Fact]
    public void Slerp_between_unit_vectors_stays_on_the_unit_sphere()
    {
        torch.manual_seed(7);
        using torch.Tensor x = torch.randn(128);
        using torch.Tensor y = torch.randn(128);
        using torch.Tensor unitX = x / x.norm();
        using torch.Tensor unitY = y / y.norm();

        foreach (double t in (double[])[0.1, 0.3, 0.5, 0.7, 0.95])
        {
            using torch.Tensor mixed = PromptInterpolation.Slerp(t, unitX, unitY);
            using torch.Tensor linear = unitX + (unitY - unitX) * t;

            Assert.Equal(1.0, mixed.norm().item<float>(), 5);
            // Linear interpolation cuts the chord and shrinks the norm, slerp does not.
            Assert.True(linear.norm().item<float>() < 0.99f);
        }
    }

    [Fact]
    public void Slerp_of_bfloat16_computes_in_float32_and_keeps_the_dtype()
    {
        using torch.Tensor x = torch.tensor(new[] { 1f, 0f }).to(torch.bfloat16);
        using torch.Tensor y = torch.tensor(new[] { 0f, 1f }).to(torch.bfloat16);

        using torch.Tensor half = PromptInterpolation.Slerp(0.5, x, y);

        Assert.Equal(torch.bfloat16, half.dtype);
        Assert.Equal(MathF.Sqrt(0.5f), half[0].to(torch.float32).item<float>(), 2);
    }

    [Fact]
    public void Slerp_of_different_shapes_is_an_error()
    {
        using torch.Tensor x = torch.zeros(2, 3);
        using torch.Tensor y = torch.zeros(3, 2);

        ArgumentException error = Assert.Throws<ArgumentException>(() => PromptInterpolation.Slerp(0.5, x, y));

        Assert.Contains("[2, 3]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interpolated_embeddings_walk_the_positives_and_keep_the_first_negatives()
    {
        torch.manual_seed(11);
        using var first = new Sd3TextEmbeddings(torch.randn(1, 6, 4), torch.randn(1, 6, 4), torch.randn(1, 3),
            torch.randn(1, 3));
        using var second = new Sd3TextEmbeddings(torch.randn(1, 6, 4), torch.randn(1, 6, 4), torch.randn(1, 3),
            torch.randn(1, 3));

        IReadOnlyList<Sd3TextEmbeddings> walk =
            PromptInterpolation.InterpolateTextEmbeddings(first, second, start: 0.5, stop: 0.6, num: 3);
        try
        {
            Assert.Equal([0.5, 0.55, 0.6], PromptInterpolation.Positions(0.5, 0.6, 3));
            Assert.Equal(3, walk.Count);
            for (int i = 0; i < walk.Count; i++)
            {
                double t = PromptInterpolation.Positions(0.5, 0.6, 3)[i];
                using torch.Tensor sequence = PromptInterpolation.Slerp(t, first.PromptEmbeds, second.PromptEmbeds);
                using torch.Tensor pooled =
                    PromptInterpolation.Slerp(t, first.PooledPromptEmbeds, second.PooledPromptEmbeds);
                TensorAssert.Equal(sequence, walk[i].PromptEmbeds);
                TensorAssert.Equal(pooled, walk[i].PooledPromptEmbeds);
                TensorAssert.Equal(first.NegativePromptEmbeds, walk[i].NegativePromptEmbeds);
                TensorAssert.Equal(first.NegativePooledPromptEmbeds, walk[i].NegativePooledPromptEmbeds);
            }
            using var ends = new DisposableList(
                PromptInterpolation.InterpolateTextEmbeddings(first, second, 0, 1, 2));
            TensorAssert.Equal(first.PromptEmbeds, ends.Items[0].PromptEmbeds);
            TensorAssert.Equal(second.PromptEmbeds, ends.Items[1].PromptEmbeds);
            Assert.Throws<ArgumentOutOfRangeException>(
                () => PromptInterpolation.InterpolateTextEmbeddings(first, second, num: 0));
        }
        finally
        {
            foreach (Sd3TextEmbeddings embedding in walk) embedding.Dispose();
        }
    }

    private sealed class DisposableList(IReadOnlyList<Sd3TextEmbeddings> items) : IDisposable
    {
        public IReadOnlyList<Sd3TextEmbeddings> Items { get; } = items;

        public void Dispose()
        {
            foreach (Sd3TextEmbeddings item in Items) item.Dispose();
        }
    }
}
