using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using LatentLab.Training;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Imaging;

/// <summary>
/// Reading and writing image files. PNG output can carry text chunks (the way Stable Diffusion tools record the
/// prompt and settings in a <c>parameters</c> chunk); writes are atomic and refuse to replace an existing file
/// unless asked.
/// </summary>
public static class ImageFiles
{
    private static readonly byte[] PngSignature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>
    /// Decodes an image file (PNG, JPEG, BMP, WebP, GIF's first frame, ...) to an RGBA bitmap with the EXIF
    /// orientation applied.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an image this library decodes.</exception>
    public static SKBitmap Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such image file.", path);
        using SKCodec? codec = SKCodec.Create(path);
        if (codec == null) throw new InvalidDataException($"{path}: not a decodable image (PNG, JPEG, BMP, WebP, GIF).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            bitmap.Dispose();
            throw new InvalidDataException($"{path}: image data could not be decoded ({result}).");
        }
        if (codec.EncodedOrigin == SKEncodedOrigin.TopLeft) return bitmap;
        SKBitmap oriented = Orient(bitmap, codec.EncodedOrigin);
        bitmap.Dispose();
        return oriented;
    }

    /// <summary>Writes a float image tensor [C, H, W] in [0, 1] as PNG (see <see cref="ImageTensors.ToBitmap"/>).</summary>
    public static void SavePng(string path, torch.Tensor image, IReadOnlyDictionary<string, string>? text = null,
        bool overwrite = false)
    {
        using SKBitmap bitmap = ImageTensors.ToBitmap(image);
        SavePng(path, bitmap, text, overwrite);
    }

    /// <summary>Writes a bitmap as PNG, with optional text chunks, atomically.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public static void SavePng(string path, SKBitmap bitmap, IReadOnlyDictionary<string, string>? text = null,
        bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(bitmap);
        byte[] png = EncodePng(bitmap);
        if (text is { Count: > 0 }) png = InsertTextChunks(png, text);
        WriteNew(path, png, overwrite);
    }

    /// <summary>Writes a bitmap as JPEG at the given quality (1-100), atomically.</summary>
    public static void SaveJpeg(string path, SKBitmap bitmap, int quality = 92, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality)
                            ?? throw new InvalidOperationException("JPEG encoding failed.");
        WriteNew(path, data.ToArray(), overwrite);
    }

    /// <summary>The text chunks (tEXt, and uncompressed iTXt) of a PNG file, by keyword.</summary>
    /// <exception cref="InvalidDataException">Not a PNG file.</exception>
    public static IReadOnlyDictionary<string, string> ReadPngText(string path)
    {
        byte[] png = File.ReadAllBytes(path);
        if (!png.AsSpan().StartsWith(PngSignature)) throw new InvalidDataException($"{path}: not a PNG file.");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        int position = PngSignature.Length;
        while (position + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(position));
            if (length < 0 || position + 12L + length > png.Length) throw new InvalidDataException($"{path}: truncated PNG chunk.");
            string type = Encoding.ASCII.GetString(png, position + 4, 4);
            ReadOnlySpan<byte> data = png.AsSpan(position + 8, length);
            int separator = data.IndexOf((byte)0);
            if (separator > 0 && type == "tEXt")
            {
                result[Encoding.Latin1.GetString(data[..separator])] = Encoding.Latin1.GetString(data[(separator + 1)..]);
            }
            else if (separator > 0 && type == "iTXt" && data.Length > separator + 2 && data[separator + 1] == 0)
            {
                // keyword \0 compression-flag method language \0 translated-keyword \0 text
                ReadOnlySpan<byte> rest = data[(separator + 3)..];
                int languageEnd = rest.IndexOf((byte)0);
                int translatedEnd = languageEnd < 0 ? -1 : rest[(languageEnd + 1)..].IndexOf((byte)0);
                if (translatedEnd >= 0)
                {
                    result[Encoding.Latin1.GetString(data[..separator])] =
                        Encoding.UTF8.GetString(rest[(languageEnd + 1 + translatedEnd + 1)..]);
                }
            }
            if (type == "IEND") break;
            position += 12 + length;
        }
        return result;
    }

    /// <summary>Fails early (before any work) when <paramref name="path"/> exists and must not be replaced.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public static void EnsureWritable(string path, bool overwrite)
    {
        if (!overwrite && File.Exists(path))
            throw new IOException($"{path} already exists; choose another output or pass --force to replace it.");
    }

    private static void WriteNew(string path, byte[] bytes, bool overwrite)
    {
        EnsureWritable(path, overwrite);
        AtomicFiles.WriteAllBytes(path, bytes);
    }

    private static byte[] EncodePng(SKBitmap bitmap)
    {
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
                            ?? throw new InvalidOperationException("PNG encoding failed.");
        return data.ToArray();
    }

    /// <summary>
    /// Inserts text chunks right after IHDR (tEXt when the text is Latin-1, else UTF-8 iTXt), where readers that
    /// stop at the first image data still find them.
    /// </summary>
    private static byte[] InsertTextChunks(byte[] png, IReadOnlyDictionary<string, string> text)
    {
        int afterHeader = PngSignature.Length + 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(PngSignature.Length));
        using var output = new MemoryStream(png.Length + 1024);
        output.Write(png, 0, afterHeader);
        foreach ((string keyword, string value) in text)
        {
            if (keyword.Length is 0 or > 79 || keyword.Any(c => c > 255 || c == 0))
                throw new ArgumentException($"PNG text keyword '{keyword}' must be 1-79 Latin-1 characters.");
            bool latin1 = value.All(c => c is > '\0' and <= '\u00ff');
            byte[] data = latin1
                ? [.. Encoding.Latin1.GetBytes(keyword), 0, .. Encoding.Latin1.GetBytes(value)]
                : [.. Encoding.Latin1.GetBytes(keyword), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(value)];
            WriteChunk(output, latin1 ? "tEXt" : "iTXt", data);
        }
        output.Write(png, afterHeader, png.Length - afterHeader);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        output.Write(number);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32.HashToUInt32(typeAndData));
        output.Write(number);
    }

    /// <summary>Applies an EXIF orientation by remapping pixels (exact, no resampling).</summary>
    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom
            or SKEncodedOrigin.LeftBottom;
        int width = source.Width;
        int height = source.Height;
        int outWidth = swap ? height : width;
        int outHeight = swap ? width : height;
        var result = new SKBitmap(new SKImageInfo(outWidth, outHeight, source.ColorType, source.AlphaType));
        ReadOnlySpan<uint> from = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(source.GetPixelSpan());
        uint[] to = new uint[outWidth * outHeight];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // (x, y) in the displayed picture comes from (sourceX, sourceY) in the stored one.
                (int sourceX, int sourceY) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                    SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                    _ => (x, y),
                };
                to[y * outWidth + x] = from[sourceY * width + sourceX];
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(to.AsSpan()).ToArray(), 0, result.GetPixels(), to.Length * 4);
        return result;
    }
}
