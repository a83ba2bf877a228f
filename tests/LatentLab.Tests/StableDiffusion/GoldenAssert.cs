using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>
/// Compares tensors and, on failure, reports shape, dtype, the largest difference and where it is.
/// TODO(#4): switch to the shared TensorAssert.Close once it lands on main - it does the same job for every family.
/// </summary>
internal static class GoldenAssert
{
    public static void Close(torch.Tensor expected, torch.Tensor actual, double atol, double rtol = 0)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = torch.NewDisposeScope();
        torch.Tensor expected64 = expected.to(torch.float64).cpu();
        torch.Tensor actual64 = actual.to(torch.float64).cpu();
        torch.Tensor difference = (expected64 - actual64).abs();
        torch.Tensor excess = difference - (atol + rtol * expected64.abs());
        if (expected64.numel() == 0) return;
        long worst = excess.flatten().argmax().item<long>();
        double worstExcess = excess.flatten()[worst].item<double>();
        if (worstExcess > 0 || double.IsNaN(worstExcess) || actual64.isnan().any().item<bool>())
        {
            Assert.Fail($"tensors differ: shape [{string.Join(", ", actual.shape)}] {actual.dtype}, largest difference " +
                        $"{difference.max().item<double>():G4} (atol {atol}, rtol {rtol}); at flat index {worst} " +
                        $"expected {expected64.flatten()[worst].item<double>():G6}, " +
                        $"actual {actual64.flatten()[worst].item<double>():G6}");
        }
    }
}
