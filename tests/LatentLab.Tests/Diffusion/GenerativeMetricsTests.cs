using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class GenerativeMetricsTests
{
    [Fact]
    public void Frechet_distance_of_a_scaled_and_shifted_copy_matches_the_closed_form()
    {
        TinyDiffusion.Prepare();
        using Tensor x = randn(new long[] { 200, 5 }, generator: new Generator(1), dtype: float64);
        using Tensor y = x * 2 + 3;
        // μy = 2μx + 3 and Σy = 4Σx, so (Σx Σy)^½ = 2Σx and the distance is |μx + 3|² + tr(Σx).
        double[] data = x.data<double>().ToArray();
        double meanPart = 0, trace = 0;
        for (int d = 0; d < 5; d++)
        {
            double mean = 0;
            for (int n = 0; n < 200; n++) mean += data[n * 5 + d] / 200;
            double variance = 0;
            for (int n = 0; n < 200; n++) variance += Math.Pow(data[n * 5 + d] - mean, 2) / 199;
            meanPart += Math.Pow(mean + 3, 2);
            trace += variance;
        }
        Assert.Equal(meanPart + trace, GenerativeMetrics.FrechetDistance(x, y), 8);
        Assert.Equal(0, GenerativeMetrics.FrechetDistance(x, x), 8);
    }

    [Fact]
    public void Unbiased_kernel_distance_matches_a_scalar_loop()
    {
        TinyDiffusion.Prepare();
        double[][] a = [[0.1, 0.5, -1], [1, 0, 0.3], [-0.2, 0.4, 0.9], [0.7, -0.6, 0.2]];
        double[][] b = [[0.3, 0.1, 0.2], [-1, 0.5, 0.5], [0.2, 0.2, -0.4], [0.9, 0.8, 0.1]];
        static double K(double[] p, double[] q) => Math.Pow(p.Zip(q, (u, v) => u * v).Sum() / 3 + 1, 3);
        double within = 0, across = 0;
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                if (i != j) within += K(a[i], a[j]) + K(b[i], b[j]);
                across += K(a[i], b[j]);
            }
        }
        double expected = within / 12 - 2 * across / 16;
        using Tensor x = tensor(a.SelectMany(row => row).ToArray()).reshape(4, 3);
        using Tensor y = tensor(b.SelectMany(row => row).ToArray()).reshape(4, 3);
        Assert.Equal(expected, GenerativeMetrics.UnbiasedMmd(x, y), 10);
    }

    [Fact]
    public void Kernel_distance_is_near_zero_for_one_distribution_and_large_for_two()
    {
        TinyDiffusion.Prepare();
        var generator = new Generator(4);
        using Tensor x = randn(new long[] { 400, 8 }, generator: generator);
        using Tensor y = randn(new long[] { 400, 8 }, generator: generator);
        using Tensor shifted = y + 1;
        double same = GenerativeMetrics.KernelDistance(x, y, subsets: 5, subsetSize: 200, generator: generator);
        double different = GenerativeMetrics.KernelDistance(x, shifted, subsets: 5, subsetSize: 200, generator: generator);
        Assert.True(Math.Abs(same) < 0.05, $"same distribution gave {same}");
        Assert.True(different > 10 * Math.Abs(same) && different > 0.1, $"shifted gave {different}");
    }
}
