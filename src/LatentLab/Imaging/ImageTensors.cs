using SkiaSharp;
using TorchSharp;

namespace LatentLab.Imaging;

/// <summary>Conversion between float image tensors ([C, H, W], values in [0, 1], C = 1 or 3) and Skia bitmaps.</summary>
public static class ImageTensors
{
    /// <summary>
    /// An 8-bit bitmap of <paramref name="image"/>: values are clamped to [0, 1] and rounded to the nearest of 256
    /// levels. One channel gives a grey bitmap, three an opaque RGBA one.
    /// </summary>
    /// <exception cref="ArgumentException">Not a [1|3, H, W] tensor.</exception>
    public static SKBitmap ToBitmap(torch.Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 || (image.shape[0] != 1 && image.shape[0] != 3))
            throw new ArgumentException($"expected an image tensor [1 or 3, H, W], got [{string.Join(", ", image.shape)}].");
        int channels = (int)image.shape[0];
        int height = (int)image.shape[1];
        int width = (int)image.shape[2];

        byte[] bytes;
        using (torch.NewDisposeScope())
        {
            // [C, H, W] -> [H, W, C] bytes, rounded half away from zero like PIL's and numpy's (x * 255).round().
            torch.Tensor quantised = image.detach().to(torch.CPU).to_type(torch.float32).clamp(0f, 1f)
                .mul(255f).round().to_type(torch.uint8).permute(1, 2, 0).contiguous();
            bytes = quantised.bytes.ToArray();
        }

        if (channels == 1)
        {
            var grey = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
            System.Runtime.InteropServices.Marshal.Copy(bytes, 0, grey.GetPixels(), bytes.Length);
            return grey;
        }

        var rgba = new byte[width * height * 4];
        for (int pixel = 0, source = 0, target = 0; pixel < width * height; pixel++, source += 3, target += 4)
        {
            rgba[target] = bytes[source];
            rgba[target + 1] = bytes[source + 1];
            rgba[target + 2] = bytes[source + 2];
            rgba[target + 3] = 255;
        }
        var colour = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, colour.GetPixels(), rgba.Length);
        return colour;
    }

    /// <summary>
    /// A float tensor [3, H, W] (or [1, H, W] with <paramref name="grayscale"/>, using ITU-R 601 luma weights) of
    /// the bitmap's colours in [0, 1]. Transparent pixels keep their colour; compose over a background first if
    /// that matters.
    /// </summary>
    public static torch.Tensor FromBitmap(SKBitmap bitmap, bool grayscale = false)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using SKBitmap rgba = bitmap.ColorType == SKColorType.Rgba8888 && bitmap.AlphaType != SKAlphaType.Premul
            ? bitmap.Copy()
            : Convert(bitmap);
        byte[] pixels = rgba.Bytes;
        using var scope = torch.NewDisposeScope();
        // [H, W, 4] -> [3, H, W]
        torch.Tensor colours = torch.tensor(pixels, [rgba.Height, rgba.Width, 4], torch.uint8)
            .narrow(2, 0, 3).permute(2, 0, 1).to_type(torch.float32).div(255f);
        if (grayscale)
        {
            torch.Tensor weights = torch.tensor(new[] { 0.299f, 0.587f, 0.114f }).reshape(3, 1, 1);
            colours = (colours * weights).sum(0, keepdim: true);   // [1, H, W]
        }
        return colours.contiguous().MoveToOuterDisposeScope();
    }

    private static SKBitmap Convert(SKBitmap bitmap)
    {
        var info = new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var converted = new SKBitmap(info);
        using SKPixmap source = bitmap.PeekPixels();
        if (source == null || !source.ReadPixels(info, converted.GetPixels(), info.RowBytes))
        {
            converted.Dispose();
            throw new InvalidDataException($"cannot convert a {bitmap.ColorType} bitmap to RGBA.");
        }
        return converted;
    }
}
