using ImageMagick;
using LatentLab.Imaging;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Tests.Imaging;

public class ImageFilesTests
{
    [Fact]
    public void Png_round_trip_keeps_8_bit_values_and_text_chunks()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "image.png");
        using torch.Tensor levels = torch.arange(0, 256, dtype: torch.float32).div(255f);
        using torch.Tensor image = torch.stack([levels, levels.flip(0), levels]).reshape(3, 16, 16);
        var text = new Dictionary<string, string>
        {
            ["parameters"] = "a red fox\nNegative prompt: blurry\nSteps: 28, Seed: 7",
            ["note"] = "ünïcödé ✓ needs iTXt",
        };

        ImageFiles.SavePng(path, image, text);
        using SKBitmap decoded = ImageFiles.Decode(path);
        using torch.Tensor back = ImageTensors.FromBitmap(decoded);

        TensorAssert.Close(image, back, atol: 1e-6);
        Assert.Equal(text, ImageFiles.ReadPngText(path));
    }

    [Fact]
    public void Grey_images_round_trip_through_one_channel()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "grey.png");
        using torch.Tensor image = torch.linspace(0, 1, 64).reshape(1, 8, 8);

        ImageFiles.SavePng(path, image);
        using SKBitmap decoded = ImageFiles.Decode(path);
        using torch.Tensor back = ImageTensors.FromBitmap(decoded, grayscale: true);

        TensorAssert.Close(image, back, atol: 0.5 / 255 + 1e-6);
    }

    [Fact]
    public void Existing_file_is_not_replaced_unless_asked()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "result.png");
        File.WriteAllText(path, "precious");
        using torch.Tensor image = torch.zeros(3, 4, 4);

        IOException error = Assert.Throws<IOException>(() => ImageFiles.SavePng(path, image));
        Assert.Contains("--force", error.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(path));

        ImageFiles.SavePng(path, image, overwrite: true);
        Assert.NotEqual("precious", File.ReadAllText(path));
    }

    [Fact]
    public void Non_image_file_is_a_clear_error()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "notes.png");
        File.WriteAllText(path, "not an image");

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ImageFiles.Decode(path).Dispose());

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Grid_places_each_image_row_major_with_padding()
    {
        using torch.Tensor images = torch.arange(5, dtype: torch.float32).div(10f).reshape(5, 1, 1, 1).expand(5, 1, 2, 3);

        using torch.Tensor grid = ImageGrid.Compose(images, columns: 3, padding: 1, padValue: 1f);

        Assert.Equal([1L, 2 * 2 + 1, 3 * 3 + 2], grid.shape);
        Assert.Equal(0.0f, grid[0, 0, 0].item<float>());
        Assert.Equal(0.1f, grid[0, 0, 4].item<float>());      // second tile starts after 3 pixels and 1 gap
        Assert.Equal(1.0f, grid[0, 0, 3].item<float>());      // the gap
        Assert.Equal(0.4f, grid[0, 3, 4].item<float>());      // second row, second column: image 4
        Assert.Equal(1.0f, grid[0, 3, 8].item<float>());      // the unused sixth cell keeps the pad value
    }

    [Fact]
    public void Gif_has_every_frame_and_loops()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "walk.gif");
        torch.Tensor[] frames = Enumerable.Range(0, 4).Select(i => torch.full(3, 8, 8, i / 3f)).ToArray();

        AnimationFiles.SaveGif(path, frames, frameDelayMs: 200);

        using var gif = new MagickImageCollection(path);
        Assert.Equal(4, gif.Count);
        Assert.Equal(20u, gif[0].AnimationDelay);
        Assert.Equal(0u, gif[0].AnimationIterations);
        foreach (torch.Tensor frame in frames) frame.Dispose();
    }
}
