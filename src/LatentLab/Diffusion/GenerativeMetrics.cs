using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Distances between two sets of feature vectors [N, D]: the Fréchet distance between Gaussians fitted to them (the
/// formula of FID) and the kernel distance (KID: the unbiased estimator of the squared maximum mean discrepancy with
/// the cubic polynomial kernel k(x, y) = (x·y / D + 1)³). Computed in float64.
/// </summary>
public static class GenerativeMetrics
{
    /// <summary>
    /// |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), with Tr((Σ₁Σ₂)^½) taken as the sum of the square roots of the
    /// eigenvalues of Σ₁^½ Σ₂ Σ₁^½ (symmetric, so a stable eigen-decomposition serves). Biased upwards at small N:
    /// compare only figures made with the same N.
    /// </summary>
    public static double FrechetDistance(Tensor first, Tensor second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        using var scope = NewDisposeScope();
        (Tensor meanA, Tensor covA) = Moments(first);
        (Tensor meanB, Tensor covB) = Moments(second);
        Tensor rootA = SymmetricSqrt(covA);
        Tensor middle = rootA.matmul(covB).matmul(rootA);
        middle = (middle + middle.T) / 2;
        Tensor traceRoot = linalg.eigvalsh(middle).clamp_min(0).sqrt().sum();
        Tensor distance = (meanA - meanB).square().sum() + covA.trace() + covB.trace() - 2 * traceRoot;
        return distance.item<double>();
    }

    /// <summary>
    /// Unbiased MMD² with the cubic polynomial kernel, averaged over <paramref name="subsets"/> random subsets of
    /// <paramref name="subsetSize"/> rows from each set (as the KID paper's reference code does); the subsets are
    /// drawn from <paramref name="generator"/>. Can be slightly negative when the sets match.
    /// </summary>
    public static double KernelDistance(Tensor first, Tensor second, int subsets = 10, int subsetSize = 1000,
        Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        using var scope = NewDisposeScope();
        Tensor x = first.to(float64), y = second.to(float64);
        int size = (int)Math.Min(subsetSize, Math.Min(x.shape[0], y.shape[0]));
        if (size < 2) throw new ArgumentException("kernel distance: need at least 2 feature vectors in each set.");
        double total = 0;
        for (int i = 0; i < subsets; i++)
        {
            Tensor xs = x.index_select(0, randperm(x.shape[0], generator: generator).narrow(0, 0, size));
            Tensor ys = y.index_select(0, randperm(y.shape[0], generator: generator).narrow(0, 0, size));
            total += UnbiasedMmd(xs, ys);
        }
        return total / subsets;
    }

    /// <summary>The unbiased MMD² of two equal-size sets with the cubic polynomial kernel.</summary>
    public static double UnbiasedMmd(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        using var scope = NewDisposeScope();
        long m = x.shape[0], dimensions = x.shape[1];
        Tensor Kernel(Tensor a, Tensor b) => (a.to(float64).matmul(b.to(float64).T) / dimensions + 1).pow(3);
        Tensor kxx = Kernel(x, x), kyy = Kernel(y, y), kxy = Kernel(x, y);
        // Off-diagonal means for the within-set terms (the diagonal k(x, x) would bias the estimate).
        double within = ((kxx.sum() - kxx.diagonal().sum()) + (kyy.sum() - kyy.diagonal().sum())).item<double>()
                        / (m * (m - 1));
        double across = 2 * kxy.mean().item<double>();
        return within - across;
    }

    private static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        Tensor values = features.to(float64);
        if (values.shape[0] < 2) throw new ArgumentException("Fréchet distance: need at least 2 feature vectors in each set.");
        Tensor mean = values.mean([0]);
        Tensor centred = values - mean;
        return (mean, centred.T.matmul(centred) / (values.shape[0] - 1));
    }

    private static Tensor SymmetricSqrt(Tensor matrix)
    {
        (Tensor values, Tensor vectors) = linalg.eigh(matrix);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.T);
    }
}
