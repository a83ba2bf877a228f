using LatentLab.Data;
using SkiaSharp;

namespace LatentLab.Tests.Data;

public class ImageFolderDatasetTests
{
    // Writes a picture made of vertical (or horizontal) bands of the given colours.
    private static void WriteBands(string path, int width, int height, SKColor[] colours, bool vertical,
        SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int band = vertical ? x * colours.Length / width : y * colours.Length / height;
                bitmap.SetPixel(x, y, colours[band]);
            }
        }
        Save(path, bitmap, format);
    }

    private static void Save(string path, SKBitmap bitmap, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using SKData data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static (byte R, byte G, byte B) Pixel(byte[] planar, int size, int x, int y) =>
        (planar[y * size + x], planar[size * size + y * size + x], planar[2 * size * size + y * size + x]);

    [Theory]
    [InlineData(60, 30, 16, 16, 15, 0, 30, 30)]
    [InlineData(30, 60, 16, 16, 0, 15, 30, 30)]
    [InlineData(100, 50, 32, 16, 0, 0, 100, 50)]
    [InlineData(101, 50, 16, 16, 25, 0, 50, 50)]
    [InlineData(40, 100, 32, 16, 0, 40, 40, 20)]
    public void Crop_box_is_the_largest_centred_box_of_the_target_aspect(int width, int height, int targetWidth,
        int targetHeight, int left, int top, int cropWidth, int cropHeight)
    {
        Assert.Equal((left, top, cropWidth, cropHeight),
            ImageFolderDataset.CropBox(width, height, targetWidth, targetHeight));
    }

    [Fact]
    public void Wide_and_tall_images_are_centre_cropped_not_squeezed()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SKColor[] bands = [SKColors.Red, new SKColor(0, 255, 0), SKColors.Blue];
        // Wide 90x30: the centred 30x30 square is all green; squeezing would show red and blue at the sides.
        WriteBands(Path.Combine(folder, "wide.png"), 90, 30, bands, vertical: true);
        byte[] wide = ImageFolderDataset.DecodeResized(Path.Combine(folder, "wide.png"), 16, 16, SKColors.White, 1_000_000);
        foreach (int x in new[] { 0, 8, 15 }) Assert.Equal(((byte)0, (byte)255, (byte)0), Pixel(wide, 16, x, 8));

        // Tall 40x120 with bands red/green/blue from top: again only green survives the crop.
        WriteBands(Path.Combine(folder, "tall.jpg"), 40, 120, bands, vertical: false, SKEncodedImageFormat.Jpeg);
        byte[] tall = ImageFolderDataset.DecodeResized(Path.Combine(folder, "tall.jpg"), 8, 8, SKColors.White, 1_000_000);
        (byte r, byte g, byte b) = Pixel(tall, 8, 4, 0);
        Assert.True(g > 200 && r < 60 && b < 60, $"top centre should be green, got {r},{g},{b}");

        // Wide target from a square image: the middle band only spans the whole height.
        WriteBands(Path.Combine(folder, "square.png"), 60, 60, bands, vertical: false);
        byte[] strip = ImageFolderDataset.DecodeResized(Path.Combine(folder, "square.png"), 10, 30, SKColors.White, 1_000_000);
        Assert.Equal(3 * 10 * 30, strip.Length);
        Assert.Equal(255, strip[10 * 30 + 5 * 30 + 15]); // green plane, centre
    }

    [Fact]
    public void Grayscale_and_transparent_images_become_rgb()
    {
        string folder = TestPaths.NewTemporaryFolder();
        using (var gray = new SKBitmap(new SKImageInfo(12, 12, SKColorType.Gray8, SKAlphaType.Opaque)))
        {
            gray.Erase(new SKColor(90, 90, 90));
            Save(Path.Combine(folder, "gray.png"), gray);
        }
        byte[] fromGray = ImageFolderDataset.DecodeResized(Path.Combine(folder, "gray.png"), 4, 4, SKColors.White, 1000);
        Assert.Equal((90, 90, 90), ToInts(Pixel(fromGray, 4, 1, 1)));

        using (var clear = new SKBitmap(new SKImageInfo(12, 12, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            clear.Erase(new SKColor(255, 0, 0, 0));
            for (int x = 0; x < 6; x++)
                for (int y = 0; y < 12; y++) clear.SetPixel(x, y, new SKColor(0, 0, 255, 255));
            Save(Path.Combine(folder, "alpha.png"), clear);
        }
        var background = new SKColor(10, 200, 30);
        byte[] composed = ImageFolderDataset.DecodeResized(Path.Combine(folder, "alpha.png"), 12, 12, background, 1000);
        Assert.Equal((0, 0, 255), ToInts(Pixel(composed, 12, 1, 5)));   // opaque half keeps its colour
        Assert.Equal((10, 200, 30), ToInts(Pixel(composed, 12, 10, 5))); // transparent half shows the background
    }

    private static (int, int, int) ToInts((byte R, byte G, byte B) pixel) => (pixel.R, pixel.G, pixel.B);

    [Fact]
    public void Broken_empty_and_non_image_files_are_skipped_and_counted()
    {
        string folder = TestPaths.NewTemporaryFolder();
        WriteBands(Path.Combine(folder, "b_good.png"), 20, 20, [SKColors.Red], vertical: true);
        WriteBands(Path.Combine(folder, "sub", "a_good.jpg"), 30, 20, [SKColors.Blue], vertical: true,
            SKEncodedImageFormat.Jpeg);
        File.WriteAllBytes(Path.Combine(folder, "broken.png"), [137, 80, 78, 71, 1, 2, 3, 4, 5]);
        File.WriteAllBytes(Path.Combine(folder, "empty.jpg"), []);
        File.WriteAllText(Path.Combine(folder, "text.bmp"), "this is not a bitmap");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "ignored: not an image extension");

        ImageFolderResult result = ImageFolderDataset.Load(new ImageFolderRequest(folder, 8, 8) { UseCacheFile = false });

        Assert.Equal(2, result.Images.Count);
        Assert.Equal(3, result.Images.Channels);
        Assert.Equal(3, result.Skipped.Count);
        Assert.Equal(["broken.png", "empty.jpg", "text.bmp"],
            result.Skipped.Select(skipped => Path.GetFileName(skipped.Path)).Order(StringComparer.Ordinal));
        // Sorted by path: b_good.png (red) comes before sub/a_good.jpg (blue).
        byte[] pixels = result.Images.Pixels.ToArray();
        Assert.Equal(255, pixels[0]);
        Assert.True(pixels[192 + 128] > 200);
    }

    [Fact]
    public void Oversized_images_are_refused_from_the_header()
    {
        string folder = TestPaths.NewTemporaryFolder();
        WriteBands(Path.Combine(folder, "big.png"), 40, 30, [SKColors.Red], vertical: true);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() =>
            ImageFolderDataset.DecodeResized(Path.Combine(folder, "big.png"), 8, 8, SKColors.White, maxPixels: 1000));
        Assert.Contains("40x30", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_folder_and_missing_folder_are_clear_errors()
    {
        string folder = TestPaths.NewTemporaryFolder();
        InvalidDataException empty = Assert.Throws<InvalidDataException>(() =>
            ImageFolderDataset.Load(new ImageFolderRequest(folder, 8, 8)));
        Assert.Contains("no image files", empty.Message, StringComparison.Ordinal);
        Assert.Throws<DirectoryNotFoundException>(() =>
            ImageFolderDataset.Load(new ImageFolderRequest(Path.Combine(folder, "nope"), 8, 8)));
    }

    [Fact]
    public void Second_load_comes_from_the_cache_file_and_a_changed_folder_is_decoded_again()
    {
        string folder = TestPaths.NewTemporaryFolder();
        WriteBands(Path.Combine(folder, "one.png"), 20, 10, [SKColors.Red, SKColors.Blue], vertical: true);
        var request = new ImageFolderRequest(folder, 8, 8);
        ImageFolderDataset.ClearMemoryCache();
        ImageFolderResult first = ImageFolderDataset.Load(request);
        Assert.False(first.FromCache);
        Assert.Single(Directory.GetFiles(folder, ".latentlab-cache-*"));

        ImageFolderDataset.ClearMemoryCache();
        ImageFolderResult second = ImageFolderDataset.Load(request);
        Assert.True(second.FromCache);
        Assert.Equal(first.Images.Pixels.ToArray(), second.Images.Pixels.ToArray());

        WriteBands(Path.Combine(folder, "two.png"), 10, 10, [SKColors.Green], vertical: true);
        ImageFolderResult third = ImageFolderDataset.Load(request);
        Assert.False(third.FromCache);
        Assert.Equal(2, third.Images.Count);
    }

    [Fact]
    public void Subfolders_become_labels_when_asked_and_survive_the_cache_file()
    {
        string folder = TestPaths.NewTemporaryFolder();
        WriteBands(Path.Combine(folder, "tulip", "a.png"), 10, 10, [SKColors.Red], vertical: true);
        WriteBands(Path.Combine(folder, "daisy", "b.png"), 10, 10, [SKColors.White], vertical: true);
        WriteBands(Path.Combine(folder, "daisy", "deeper", "c.png"), 10, 10, [SKColors.White], vertical: true);
        WriteBands(Path.Combine(folder, "loose.png"), 10, 10, [SKColors.Blue], vertical: true);
        var request = new ImageFolderRequest(folder, 4, 4) { LabelsFromSubfolders = true };

        ImageFolderDataset.ClearMemoryCache();
        ImageFolderResult result = ImageFolderDataset.Load(request);
        ImageFolderDataset.ClearMemoryCache();
        ImageFolderResult cached = ImageFolderDataset.Load(request);

        foreach (ImageFolderResult loaded in new[] { result, cached })
        {
            Assert.Equal(["daisy", "tulip"], loaded.Images.ClassNames);
            Assert.Equal([0, 0, 1], loaded.Images.Labels); // daisy/b, daisy/deeper/c, tulip/a
            Assert.Single(loaded.Skipped);
        }
        Assert.True(cached.FromCache);
    }
}
