using LatentLab.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Vae;

/// <summary>
/// Checks the stride-2 "same" convolution and transposed convolution against scalar-loop oracles written from
/// TensorFlow's definition: a "same" convolution outputs ceil(n / s) positions and pads total = max((out - 1) * s
/// + k - n, 0), floor(total / 2) before and the rest after; the transposed one is its adjoint, of size n * s.
/// </summary>
public class KerasSamePaddingTests
{
    private const int Kernel = 3;
    private const int Stride = 2;

    /// <summary>TF "same" convolution of x [Cin, H, W] with w [Cout, Cin, k, k], stride s, by loops.</summary>
    private static double[,,] OracleConvolution(double[,,] x, double[,,,] w)
    {
        int channelsIn = x.GetLength(0), height = x.GetLength(1), width = x.GetLength(2);
        int channelsOut = w.GetLength(0);
        int outHeight = (height + Stride - 1) / Stride, outWidth = (width + Stride - 1) / Stride;
        int padTop = Math.Max((outHeight - 1) * Stride + Kernel - height, 0) / 2;
        int padLeft = Math.Max((outWidth - 1) * Stride + Kernel - width, 0) / 2;
        var y = new double[channelsOut, outHeight, outWidth];
        for (int o = 0; o < channelsOut; o++)
            for (int oh = 0; oh < outHeight; oh++)
                for (int ow = 0; ow < outWidth; ow++)
                    for (int c = 0; c < channelsIn; c++)
                        for (int kh = 0; kh < Kernel; kh++)
                            for (int kw = 0; kw < Kernel; kw++)
                            {
                                int ih = oh * Stride + kh - padTop, iw = ow * Stride + kw - padLeft;
                                if (ih >= 0 && ih < height && iw >= 0 && iw < width)
                                {
                                    y[o, oh, ow] += x[c, ih, iw] * w[o, c, kh, kw];
                                }
                            }
        return y;
    }

    /// <summary>
    /// TF "same" transposed convolution of x [Cin, h, w] with a kernel stored as PyTorch stores it, [Cin, Cout, k, k],
    /// by loops: the adjoint of the "same" convolution from [h * s, w * s] down to [h, w].
    /// </summary>
    private static double[,,] OracleTransposed(double[,,] x, double[,,,] w)
    {
        int channelsIn = x.GetLength(0), height = x.GetLength(1), width = x.GetLength(2);
        int channelsOut = w.GetLength(1);
        int outHeight = height * Stride, outWidth = width * Stride;
        int padTop = Math.Max((height - 1) * Stride + Kernel - outHeight, 0) / 2;
        int padLeft = Math.Max((width - 1) * Stride + Kernel - outWidth, 0) / 2;
        var y = new double[channelsOut, outHeight, outWidth];
        for (int c = 0; c < channelsIn; c++)
            for (int ih = 0; ih < height; ih++)
                for (int iw = 0; iw < width; iw++)
                    for (int o = 0; o < channelsOut; o++)
                        for (int kh = 0; kh < Kernel; kh++)
                            for (int kw = 0; kw < Kernel; kw++)
                            {
                                // Input position ih fed padded positions ih * s + kh of the forward convolution.
                                int oh = ih * Stride + kh - padTop, ow = iw * Stride + kw - padLeft;
                                if (oh >= 0 && oh < outHeight && ow >= 0 && ow < outWidth)
                                {
                                    y[o, oh, ow] += x[c, ih, iw] * w[c, o, kh, kw];
                                }
                            }
        return y;
    }

    private static double[,,] ToArray3(Tensor tensor)
    {
        double[] flat = tensor.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var array = new double[tensor.shape[0], tensor.shape[1], tensor.shape[2]];
        Buffer.BlockCopy(flat, 0, array, 0, flat.Length * sizeof(double));
        return array;
    }

    private static double[,,,] ToArray4(Tensor tensor)
    {
        double[] flat = tensor.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var array = new double[tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3]];
        Buffer.BlockCopy(flat, 0, array, 0, flat.Length * sizeof(double));
        return array;
    }

    private static double MaxDifference(double[,,] expected, Tensor actual)
    {
        Assert.Equal([expected.GetLength(0), expected.GetLength(1), expected.GetLength(2)], actual.shape);
        double[,,] values = ToArray3(actual);
        double max = 0;
        foreach ((double e, double a) in expected.Cast<double>().Zip(values.Cast<double>()))
        {
            max = Math.Max(max, Math.Abs(e - a));
        }
        return max;
    }

    [Theory]
    [InlineData(28)]
    [InlineData(14)]
    [InlineData(8)]
    public void Stride2_convolution_pads_bottom_and_right_like_Keras(int size)
    {
        using var generator = new Generator(7, CPU);
        using Tensor x = randn([1, 3, size, size], dtype: float64, generator: generator);
        using Tensor w = randn([4, 3, Kernel, Kernel], dtype: float64, generator: generator);
        double[,,] expected = OracleConvolution(ToArray3(x[0]), ToArray4(w));

        using Tensor padded = KerasSamePadding.PadForConvolution(x, Kernel, Stride);
        using Tensor actual = nn.functional.conv2d(padded, w, strides: [Stride, Stride]);
        Assert.True(MaxDifference(expected, actual[0]) < 1e-12);

        // The test has teeth: PyTorch's symmetric padding 1 gives the same shape but different values.
        using Tensor symmetric = nn.functional.conv2d(x, w, strides: [Stride, Stride], padding: [1, 1]);
        Assert.True(MaxDifference(expected, symmetric[0]) > 1e-3);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(14)]
    [InlineData(3)]
    public void Stride2_transposed_convolution_crops_bottom_and_right_like_Keras(int size)
    {
        using var generator = new Generator(11, CPU);
        using Tensor x = randn([1, 4, size, size], dtype: float64, generator: generator);
        using Tensor w = randn([4, 2, Kernel, Kernel], dtype: float64, generator: generator);
        double[,,] expected = OracleTransposed(ToArray3(x[0]), ToArray4(w));

        using Tensor full = nn.functional.conv_transpose2d(x, w, strides: [Stride, Stride]);
        using Tensor actual = KerasSamePadding.CropTransposed(full, size, size, Kernel, Stride);
        Assert.Equal([1, 2, 2 * size, 2 * size], actual.shape);
        Assert.True(MaxDifference(expected, actual[0]) < 1e-12);

        // PyTorch's padding=1, output_padding=1 also doubles the size, but crops the top/left instead: shifted.
        using Tensor pytorchSame = nn.functional.conv_transpose2d(x, w, strides: [Stride, Stride], padding: [1, 1],
            output_padding: [1, 1]);
        Assert.Equal(actual.shape, pytorchSame.shape);
        Assert.True(MaxDifference(expected, pytorchSame[0]) > 1e-3);
    }

    [Fact]
    public void Transposed_convolution_is_the_adjoint_of_the_convolution()
    {
        // <conv(a), b> == <a, conv_transpose(b)> with one kernel: a property of Keras' pair, checked end to end.
        using var generator = new Generator(3, CPU);
        using Tensor a = randn([2, 3, 12, 12], dtype: float64, generator: generator);
        using Tensor b = randn([2, 5, 6, 6], dtype: float64, generator: generator);
        using Tensor w = randn([5, 3, Kernel, Kernel], dtype: float64, generator: generator);

        using Tensor convA = nn.functional.conv2d(KerasSamePadding.PadForConvolution(a, Kernel, Stride), w,
            strides: [Stride, Stride]);
        using Tensor full = nn.functional.conv_transpose2d(b, w, strides: [Stride, Stride]);
        using Tensor transposedB = KerasSamePadding.CropTransposed(full, 6, 6, Kernel, Stride);

        double left = (convA * b).sum().item<double>();
        double right = (a * transposedB).sum().item<double>();
        Assert.Equal(left, right, 1e-9);
    }

    [Fact]
    public void An_impulse_shows_which_side_is_padded()
    {
        // 4x4 image with a single 1 at (2, 2), 3x3 kernel of ones: with Keras' padding (none at the top/left) every
        // output window (rows 0-2 and 2-4, cols likewise) covers (2, 2); with symmetric padding only the last one does.
        using Tensor image = zeros(1, 1, 4, 4, dtype: float64);
        image[0, 0, 2, 2] = tensor(1.0, dtype: float64);
        using Tensor ones = torch.ones(1, 1, Kernel, Kernel, dtype: float64);

        using Tensor output = nn.functional.conv2d(KerasSamePadding.PadForConvolution(image, Kernel, Stride), ones,
            strides: [Stride, Stride]);

        Assert.Equal([1.0, 1.0, 1.0, 1.0], output.flatten().data<double>().ToArray());
    }
}
