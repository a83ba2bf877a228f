using LatentLab.Diffusion;
using LatentLab.Tests.Diffusion;
using SkiaSharp;

namespace LatentLab.Tests.Cli;

public class DiffusionCommandTests
{
    private static string PictureFolder()
    {
        string folder = TestPaths.NewTemporaryFolder();
        for (int i = 0; i < 8; i++)
        {
            using var bitmap = new SKBitmap(12, 10);
            bitmap.Erase(new SKColor((byte)(30 * i), 100, (byte)(255 - 30 * i)));
            using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(folder, $"p{i}.png"), data.ToArray());
        }
        return folder;
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs")]
    [InlineData("--batch-size", "0", "--batch-size")]
    [InlineData("--widths", "32,x", "--widths")]
    [InlineData("--image-size", "36", "image size")]
    [InlineData("--dataset", "cifar", "--dataset 'cifar'")]
    public void Bad_train_values_give_one_line_and_a_usage_exit(string option, string value, string named)
    {
        TinyDiffusion.Prepare();
        CliRunner.Result result = CliRunner.Run("diffusion", "train", option, value, "--out",
            Path.Combine(TestPaths.NewTemporaryFolder(), "run"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.Single(result.ErrorLines, line => line.StartsWith("error:", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_generate_and_refusals_on_a_picture_folder()
    {
        TinyDiffusion.Prepare();
        string images = PictureFolder();
        string run = Path.Combine(TestPaths.NewTemporaryFolder(), "run");
        string[] train =
        [
            "diffusion", "train", "--images", images, "--image-size", "8", "--widths", "4,8", "--block-depth", "1",
            "--batch-size", "4", "--epochs", "1", "--sample-steps", "2", "--seed", "1", "--threads", "1", "--out", run,
        ];

        CliRunner.Result first = CliRunner.Run(train);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("epoch 1/1 noise_loss=", first.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run, "samples", "epoch_001.png")));

        // A second run into the same folder is refused without --force.
        CliRunner.Result again = CliRunner.Run(train);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--resume", again.Error, StringComparison.Ordinal);

        string grid = Path.Combine(TestPaths.NewTemporaryFolder(), "grid.png");
        string[] generate = ["diffusion", "generate", "--checkpoint", run, "--count", "4", "--steps", "2", "--seed", "3",
            "--threads", "1", "--out", grid];
        CliRunner.Result generated = CliRunner.Run(generate);
        Assert.True(generated.ExitCode == 0, generated.Error);
        using (SKBitmap bitmap = SKBitmap.Decode(grid)) Assert.Equal(8 * 4 + 2 * 3, bitmap.Width);
        Assert.Equal(2, CliRunner.Run(generate).ExitCode); // exists: refused without --force
        Assert.Equal(0, CliRunner.Run([.. generate, "--force"]).ExitCode);

        string reverse = Path.Combine(TestPaths.NewTemporaryFolder(), "reverse.png");
        Assert.Equal(0, CliRunner.Run("diffusion", "reverse", "--checkpoint", run, "--count", "2", "--steps", "3",
            "--seed", "1", "--threads", "1", "--out", reverse).ExitCode);
        using (SKBitmap bitmap = SKBitmap.Decode(reverse)) Assert.Equal((8 * 4 + 2 * 3, 8 * 2 + 2), (bitmap.Width, bitmap.Height));

        string strip = Path.Combine(TestPaths.NewTemporaryFolder(), "walk.png");
        Assert.Equal(0, CliRunner.Run("diffusion", "interpolate", "--checkpoint", run, "--frames", "3", "--steps", "2",
            "--seed", "1", "--threads", "1", "--out", strip).ExitCode);
        Assert.True(File.Exists(Path.ChangeExtension(strip, ".gif")));
    }

    [Fact]
    public void Missing_or_foreign_checkpoint_is_a_one_line_error()
    {
        TinyDiffusion.Prepare();
        string folder = TestPaths.NewTemporaryFolder();
        CliRunner.Result missing = CliRunner.Run("diffusion", "generate", "--checkpoint", Path.Combine(folder, "nope"),
            "--out", Path.Combine(folder, "x.png"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--checkpoint", missing.Error, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(folder, DiffusionCheckpoint.ConfigFile), "{\"latent_dim\": 2}");
        CliRunner.Result foreign = CliRunner.Run("diffusion", "generate", "--checkpoint", folder,
            "--out", Path.Combine(folder, "x.png"));
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains("config.json", foreign.Error, StringComparison.Ordinal);
    }
}
