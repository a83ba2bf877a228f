using System.Globalization;
using TorchSharp;
using Xunit.Sdk;

namespace LatentLab.Tests;

/// <summary>
/// The one tensor comparison of the test suite: on failure it says shape, dtype, the largest difference and where
/// it is, so a mismatch against a golden can be located without a debugger.
/// </summary>
public static class TensorAssert
{
    /// <summary>
    /// Asserts |actual - expected| &lt;= atol + rtol * |expected| elementwise (like numpy.allclose), after converting
    /// both to float64 on the CPU. Shapes must match exactly.
    /// </summary>
    public static void Close(torch.Tensor expected, torch.Tensor actual, double atol = 1e-5, double rtol = 1e-5,
        string? what = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        string label = what == null ? "" : what + ": ";
        if (!expected.shape.SequenceEqual(actual.shape))
        {
            throw new XunitException(
                $"{label}shape [{string.Join(", ", actual.shape)}] ({actual.dtype}) differs from expected " +
                $"[{string.Join(", ", expected.shape)}] ({expected.dtype}).");
        }
        using var scope = torch.NewDisposeScope();
        torch.Tensor want = expected.detach().cpu().to_type(torch.float64);
        torch.Tensor got = actual.detach().cpu().to_type(torch.float64);
        if (want.numel() == 0) return;
        torch.Tensor difference = (got - want).abs();
        torch.Tensor allowed = want.abs() * rtol + atol;
        torch.Tensor bad = difference.gt(allowed).logical_or(got.isnan().logical_xor(want.isnan()));
        if (!bad.any().item<bool>()) return;

        long flatIndex = difference.nan_to_num(double.PositiveInfinity).flatten().argmax().item<long>();
        long[] where = Unravel(flatIndex, want.shape);
        double maxDifference = difference.flatten()[flatIndex].item<double>();
        double wantValue = want.flatten()[flatIndex].item<double>();
        double gotValue = got.flatten()[flatIndex].item<double>();
        long badCount = bad.sum().item<long>();
        throw new XunitException(string.Create(CultureInfo.InvariantCulture,
            $"{label}{badCount} of {want.numel()} elements differ beyond atol={atol}, rtol={rtol} " +
            $"(shape [{string.Join(", ", want.shape)}], {actual.dtype}); largest difference {maxDifference:G6} at " +
            $"[{string.Join(", ", where)}]: expected {wantValue:G9}, got {gotValue:G9}."));
    }

    /// <summary>Asserts two tensors are equal element for element (and in shape and dtype).</summary>
    public static void Equal(torch.Tensor expected, torch.Tensor actual, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (expected.dtype != actual.dtype)
            throw new XunitException($"{what}{(what == null ? "" : ": ")}dtype {actual.dtype} differs from expected {expected.dtype}.");
        Close(expected, actual, 0, 0, what);
    }

    private static long[] Unravel(long index, long[] shape)
    {
        var position = new long[shape.Length];
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            position[axis] = shape[axis] == 0 ? 0 : index % shape[axis];
            index = shape[axis] == 0 ? 0 : index / shape[axis];
        }
        return position;
    }
}
