using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// Keras' <c>padding="same"</c> for strided convolutions, which PyTorch's symmetric <c>padding</c> cannot express.
/// </summary>
/// <remarks>
/// Keras (like TensorFlow) makes a stride-s convolution output ceil(n / s) positions and, when the padding this
/// needs is odd, puts the extra row and column at the bottom and right. For k = 3, s = 2 and an even side, that is
/// no padding at the top/left and one row/column at the bottom/right; a symmetric padding of 1 gives the same
/// shapes and parameter counts but samples the input half a pixel off. A transposed "same" convolution is the
/// adjoint of that convolution, so it outputs n * s positions and drops the excess from the bottom and right of
/// the full transposed result, never from the top and left as PyTorch's <c>padding=1, output_padding=1</c> does.
/// </remarks>
public static class KerasSamePadding
{
    /// <summary>Padding before and after one axis of a "same" convolution of this size, kernel and stride.</summary>
    public static (long Before, long After) Convolution(long size, long kernel, long stride)
    {
        long outputSize = (size + stride - 1) / stride;
        long total = Math.Max((outputSize - 1) * stride + kernel - size, 0);
        return (total / 2, total - total / 2);
    }

    /// <summary>Pads images [B, C, H, W] as Keras does before a "same" convolution (kernel, stride).</summary>
    public static Tensor PadForConvolution(Tensor images, long kernel, long stride)
    {
        ArgumentNullException.ThrowIfNull(images);
        (long top, long bottom) = Convolution(images.shape[2], kernel, stride);
        (long left, long right) = Convolution(images.shape[3], kernel, stride);
        if (top == 0 && bottom == 0 && left == 0 && right == 0) return images.alias();
        return nn.functional.pad(images, [left, right, top, bottom]); // [B, C, H + top + bottom, W + left + right]
    }

    /// <summary>
    /// Crops the full output of a transposed convolution (PyTorch's, with padding 0: side (n - 1) * s + k) to Keras'
    /// "same" result of side n * s, given the input side n.
    /// </summary>
    public static Tensor CropTransposed(Tensor full, long inputHeight, long inputWidth, long kernel, long stride)
    {
        ArgumentNullException.ThrowIfNull(full);
        // The transposed "same" convolution is the adjoint of the "same" convolution from n * s down to n, so it
        // removes exactly the padding that convolution would add, from the same sides.
        (long top, _) = Convolution(inputHeight * stride, kernel, stride);
        (long left, _) = Convolution(inputWidth * stride, kernel, stride);
        return full[.., .., TensorIndex.Slice(top, top + inputHeight * stride),
            TensorIndex.Slice(left, left + inputWidth * stride)]; // [B, C, n_H * s, n_W * s]
    }
}
