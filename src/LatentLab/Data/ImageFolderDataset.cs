using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LatentLab.Imaging;
using LatentLab.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;

namespace LatentLab.Data;

/// <summary>
/// A folder of pictures as a dataset, like Keras's <c>image_dataset_from_directory(labels=None, image_size,
/// crop_to_aspect_ratio=True)</c>: every JPEG, PNG, BMP, WebP and GIF (first frame) below the folder, sorted by path,
/// decoded with the EXIF orientation applied, converted to RGB (transparent pixels over a background colour),
/// centre-cropped to the target aspect ratio and resized with a smoothing filter. Files that do not decode are
/// skipped and reported; absurdly large images are refused from their header, before decoding. The result is kept
/// in memory and in a cache file beside the data, keyed by the size and the list of files with their sizes and times.
/// </summary>
public static partial class ImageFolderDataset
{
    /// <summary>File extensions read (lower case): Keras's list plus WebP.</summary>
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp" };

    private const string CachePrefix = ".latentlab-cache-";
    private static readonly byte[] CacheMagic = "LLIMGC02"u8.ToArray();
    private static readonly ConcurrentDictionary<string, ImageFolderResult> MemoryCache = new(StringComparer.Ordinal);

    /// <summary>Loads (or takes from a cache) the images of <paramref name="request"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No image in the folder could be decoded.</exception>
    public static ImageFolderResult Load(ImageFolderRequest request, IProgress<ImageFolderProgress>? progress = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Width, 1);
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(typeof(ImageFolderDataset));
        string directory = Path.GetFullPath(request.Directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{request.Directory}: no such image folder.");

        // 1. The file list and the cache key made from it.
        List<string> files = FindImages(directory);
        string key = CacheKey(directory, files, request);
        if (MemoryCache.TryGetValue(key, out ImageFolderResult? cached)) return cached with { FromCache = true };
        string cachePath = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture,
            $"{CachePrefix}{request.Height}x{request.Width}-{key[..16]}.bin"));
        if (request.UseCacheFile && TryReadCache(cachePath, out ImageFolderResult? fromFile))
        {
            MemoryCache[key] = fromFile;
            return fromFile;
        }

        // Labels from first-level subfolders, when asked.
        string[] classNames = [];
        int[] fileLabels = new int[files.Count];
        if (request.LabelsFromSubfolders)
        {
            string?[] classOf = files.Select(file => ClassOf(directory, file)).ToArray();
            classNames = classOf.OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();
            if (classNames.Length > 256)
                throw new InvalidDataException($"{request.Directory}: {classNames.Length} class folders; at most 256 are supported.");
            for (int i = 0; i < files.Count; i++)
                fileLabels[i] = classOf[i] is { } name ? Array.IndexOf(classNames, name) : -1;
        }

        // 2. Decode and resize every file (in parallel: decoding dominates).
        int imageBytes = 3 * request.Height * request.Width;
        var images = new byte[files.Count][];
        var reasons = new string?[files.Count];
        int done = 0;
        Parallel.For(0, files.Count,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            index =>
            {
                if (fileLabels[index] < 0)
                {
                    reasons[index] = $"{files[index]}: not inside a class subfolder; skipped.";
                    progress?.Report(new ImageFolderProgress(Interlocked.Increment(ref done), files.Count));
                    return;
                }
                try
                {
                    images[index] = DecodeResized(files[index], request.Height, request.Width, request.Background,
                        request.MaxPixels);
                }
                catch (InvalidDataException error)
                {
                    reasons[index] = error.Message;
                }
                progress?.Report(new ImageFolderProgress(Interlocked.Increment(ref done), files.Count));
            });

        // 3. Pack the decoded images in file order; report the rest.
        var skipped = new List<SkippedImage>();
        for (int i = 0; i < files.Count; i++)
        {
            if (reasons[i] is null) continue;
            skipped.Add(new SkippedImage(files[i], reasons[i]!));
            LogSkipped(logger, reasons[i]!);
        }
        int count = files.Count - skipped.Count;
        if (count == 0)
        {
            throw new InvalidDataException(files.Count == 0
                ? $"{request.Directory}: no image files (JPEG, PNG, BMP, WebP, GIF) in the folder or below it."
                : $"{request.Directory}: none of the {files.Count} image files could be decoded.");
        }
        var pixels = new byte[(long)count * imageBytes];
        byte[]? labels = request.LabelsFromSubfolders ? new byte[count] : null;
        int row = 0;
        for (int i = 0; i < files.Count; i++)
        {
            if (images[i] is not { } image) continue;
            if (labels is not null) labels[row] = (byte)fileLabels[i];
            image.CopyTo(pixels, (long)row++ * imageBytes);
        }
        var result = new ImageFolderResult(
            new ImageSet(pixels, count, 3, request.Height, request.Width, labels, labels is null ? null : classNames),
            skipped, FromCache: false);

        MemoryCache[key] = result;
        if (request.UseCacheFile) TryWriteCache(cachePath, result, logger);
        return result;
    }

    /// <summary>Forgets the images kept in memory (the cache files stay).</summary>
    public static void ClearMemoryCache() => MemoryCache.Clear();

    /// <summary>The image files below <paramref name="directory"/>, by extension, sorted by ordinal path.</summary>
    public static List<string> FindImages(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        };
        return Directory.EnumerateFiles(directory, "*", options)
            .Where(path => Extensions.Contains(Path.GetExtension(path)))
            .Where(path => !Path.GetFileName(path).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Decodes one file to planar RGB bytes [3, <paramref name="height"/>, <paramref name="width"/>]: orientation
    /// applied, transparency over <paramref name="background"/>, the largest centred box of the target aspect ratio
    /// cropped and resized (mipmapped linear filtering when shrinking, Mitchell cubic when enlarging).
    /// </summary>
    /// <exception cref="InvalidDataException">Not a decodable image, or more than <paramref name="maxPixels"/> pixels.</exception>
    public static byte[] DecodeResized(string path, int height, int width, SKColor background, long maxPixels)
    {
        // The header alone gives the size: refuse a bomb before allocating for it.
        using (SKCodec? codec = SKCodec.Create(path))
        {
            if (codec is null) throw new InvalidDataException($"{path}: not a decodable image; skipped.");
            long pixelCount = (long)codec.Info.Width * codec.Info.Height;
            if (pixelCount > maxPixels)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: {codec.Info.Width}x{codec.Info.Height} is {pixelCount / 1e6:F0} megapixels, over the " +
                    $"limit of {maxPixels / 1e6:F0}; refused."));
            }
        }

        using SKBitmap decoded = DecodeOrThrow(path);
        (int left, int top, int cropWidth, int cropHeight) = CropBox(decoded.Width, decoded.Height, width, height);
        SKSamplingOptions sampling = cropWidth > width || cropHeight > height
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
        using var output = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(output))
        using (SKImage image = SKImage.FromBitmap(decoded))
        using (SKImage crop = image.Subset(SKRectI.Create(left, top, cropWidth, cropHeight)))
        using (var paint = new SKPaint())
        {
            // Drawing the cropped subset (not a source rectangle of the whole) keeps the filter from reading
            // pixels outside the crop.
            canvas.Clear(background);
            canvas.DrawImage(crop, SKRect.Create(0, 0, width, height), sampling, paint);
        }

        // The background is opaque, so every output pixel is: premultiplied equals plain RGB.
        ReadOnlySpan<byte> rgba = output.GetPixelSpan();
        int plane = width * height;
        var planar = new byte[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            planar[i] = rgba[4 * i];
            planar[plane + i] = rgba[4 * i + 1];
            planar[2 * plane + i] = rgba[4 * i + 2];
        }
        return planar;
    }

    /// <summary>
    /// Keras's <c>crop_to_aspect_ratio</c> box: the largest centred region of the target aspect ratio (integer
    /// division, at least one pixel each way).
    /// </summary>
    public static (int Left, int Top, int Width, int Height) CropBox(int width, int height, int targetWidth,
        int targetHeight)
    {
        int cropHeight = Math.Max(Math.Min(height, (int)((double)width * targetHeight / targetWidth)), 1);
        int cropWidth = Math.Max(Math.Min(width, (int)((double)height * targetWidth / targetHeight)), 1);
        return ((width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth, cropHeight);
    }

    private static SKBitmap DecodeOrThrow(string path)
    {
        try
        {
            return ImageFiles.Decode(path);
        }
        catch (FileNotFoundException error)
        {
            throw new InvalidDataException(error.Message, error);
        }
    }

    private static string? ClassOf(string directory, string file)
    {
        string relative = Path.GetRelativePath(directory, file);
        int separator = relative.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return separator > 0 ? relative[..separator] : null;
    }

    private static string CacheKey(string directory, List<string> files, ImageFolderRequest request)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{directory}\n{request.Height}x{request.Width} bg={request.Background} max={request.MaxPixels} " +
            $"labels={request.LabelsFromSubfolders}\n");
        foreach (string file in files)
        {
            var info = new FileInfo(file);
            text.Append(CultureInfo.InvariantCulture,
                $"{Path.GetRelativePath(directory, file)}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}\n");
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    // Cache file: magic, int32 count, channels, height, width, the pixels, int32 skipped, (path, reason) pairs,
    // int32 class count, the class names and (when there are classes) one label byte per image.
    private static bool TryReadCache(string path, out ImageFolderResult result)
    {
        result = null!;
        if (!File.Exists(path)) return false;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (!reader.ReadBytes(CacheMagic.Length).AsSpan().SequenceEqual(CacheMagic)) return false;
            int count = reader.ReadInt32(), channels = reader.ReadInt32(), height = reader.ReadInt32(),
                width = reader.ReadInt32();
            long length = (long)count * channels * height * width;
            if (count < 1 || channels != 3 || length > reader.BaseStream.Length) return false;
            byte[] pixels = reader.ReadBytes((int)length);
            if (pixels.Length != length) return false;
            int skippedCount = reader.ReadInt32();
            var skipped = new List<SkippedImage>();
            for (int i = 0; i < skippedCount; i++) skipped.Add(new SkippedImage(reader.ReadString(), reader.ReadString()));
            int classCount = reader.ReadInt32();
            string[] classNames = Enumerable.Range(0, classCount).Select(_ => reader.ReadString()).ToArray();
            byte[]? labels = classCount > 0 ? reader.ReadBytes(count) : null;
            if (labels is not null && labels.Length != count) return false;
            result = new ImageFolderResult(new ImageSet(pixels, count, channels, height, width, labels,
                labels is null ? null : classNames), skipped, FromCache: true);
            return true;
        }
        catch (Exception error) when (error is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryWriteCache(string path, ImageFolderResult result, ILogger logger)
    {
        try
        {
            AtomicFiles.Write(path, stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                ImageSet images = result.Images;
                writer.Write(CacheMagic);
                writer.Write(images.Count);
                writer.Write(images.Channels);
                writer.Write(images.Height);
                writer.Write(images.Width);
                writer.Write(images.Pixels.Span);
                writer.Write(result.Skipped.Count);
                foreach (SkippedImage skipped in result.Skipped)
                {
                    writer.Write(skipped.Path);
                    writer.Write(skipped.Reason);
                }
                int classCount = images.Labels is null ? 0 : images.ClassNames.Count;
                writer.Write(classCount);
                foreach (string name in images.ClassNames.Take(classCount)) writer.Write(name);
                if (classCount > 0) writer.Write(images.Labels!);
            });
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            LogCacheNotWritten(logger, path, error.Message);
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "{Reason}")]
    private static partial void LogSkipped(ILogger logger, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information,
        Message = "Image cache {Path} not written ({Reason}); the images stay cached in memory only")]
    private static partial void LogCacheNotWritten(ILogger logger, string path, string reason);
}
