using ImageMagick;
using LatentLab.Training;
using TorchSharp;

namespace LatentLab.Imaging;

/// <summary>Animated GIFs (interpolations, latent walks) through Magick.NET.</summary>
public static class AnimationFiles
{
    /// <summary>
    /// Writes <paramref name="frames"/> (each [C, H, W] in [0, 1], all the same size) as a GIF that loops forever,
    /// atomically. Colours are quantised to the format's 256-colour palette per frame.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public static void SaveGif(string path, IReadOnlyList<torch.Tensor> frames, int frameDelayMs = 100,
        bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0) throw new ArgumentException("an animation needs at least one frame.", nameof(frames));
        ArgumentOutOfRangeException.ThrowIfNegative(frameDelayMs);
        ImageFiles.EnsureWritable(path, overwrite);

        using var collection = new MagickImageCollection();
        foreach (torch.Tensor frame in frames)
        {
            byte[] rgb;
            long height;
            long width;
            using (torch.NewDisposeScope())
            {
                torch.Tensor image = frame.detach().cpu().to_type(torch.float32);
                if (image.dim() != 3 || (image.shape[0] != 1 && image.shape[0] != 3))
                    throw new ArgumentException($"expected frames [1 or 3, H, W], got [{string.Join(", ", image.shape)}].");
                height = image.shape[1];
                width = image.shape[2];
                // [C, H, W] -> [H, W, 3] bytes
                rgb = image.expand(3, height, width).clamp(0f, 1f).mul(255f).round().to_type(torch.uint8)
                    .permute(1, 2, 0).contiguous().bytes.ToArray();
            }
            var settings = new MagickReadSettings { Format = MagickFormat.Rgb, Width = (uint)width, Height = (uint)height, Depth = 8 };
            var image8 = new MagickImage(rgb, settings)
            {
                // GIF delays are in hundredths of a second.
                AnimationDelay = (uint)Math.Max(1, frameDelayMs / 10),
                AnimationIterations = 0,
                GifDisposeMethod = GifDisposeMethod.None,
            };
            collection.Add(image8);
        }
        collection.Quantize(new QuantizeSettings { Colors = 256, DitherMethod = DitherMethod.No });
        byte[] gif = collection.ToByteArray(MagickFormat.Gif);
        AtomicFiles.WriteAllBytes(path, gif);
    }
}
