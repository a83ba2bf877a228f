using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Data;

/// <summary>Size changes for whole <see cref="ImageSet"/>s, done in batches so memory stays small.</summary>
public static class ImageSetTransforms
{
    /// <summary>
    /// Pads each image with zeros (black) evenly on all sides to <paramref name="paddedSize"/> (28x28 MNIST digits
    /// become 32x32 with 2 pixels each side, no resampling), then, when <paramref name="size"/> differs, resizes with
    /// antialiased bilinear filtering. Labels and class names are kept.
    /// </summary>
    /// <exception cref="ArgumentException">Images larger than <paramref name="paddedSize"/>, or not square.</exception>
    public static ImageSet PadThenResize(ImageSet images, int paddedSize, int size)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (images.Height != images.Width || images.Height > paddedSize)
        {
            throw new ArgumentException(
                $"images of {images.Height}x{images.Width} cannot be padded to {paddedSize}x{paddedSize}.");
        }
        if (images.Height == size && paddedSize == size) return images;

        int before = (paddedSize - images.Height) / 2, after = paddedSize - images.Height - before;
        int outputBytes = images.Channels * size * size;
        var pixels = new byte[(long)images.Count * outputBytes];
        const int Batch = 1000;
        for (int start = 0; start < images.Count; start += Batch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(Batch, images.Count - start);
            Tensor batch = images.ToTensor(start, count); // [B, C, h, w] in [0, 1]
            batch = nn.functional.pad(batch, [before, after, before, after]); // [B, C, P, P]
            if (size != paddedSize)
            {
                batch = nn.functional.interpolate(batch, [size, size], mode: InterpolationMode.Bilinear,
                    align_corners: false, antialias: true); // [B, C, S, S]
            }
            byte[] bytes = batch.mul(255).round().clamp(0, 255).to(uint8).contiguous().data<byte>().ToArray();
            bytes.CopyTo(pixels, (long)start * outputBytes);
        }
        return new ImageSet(pixels, images.Count, images.Channels, size, size, images.Labels, images.ClassNames);
    }
}
