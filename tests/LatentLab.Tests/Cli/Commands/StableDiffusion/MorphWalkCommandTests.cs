using LatentLab.Cli.Commands.StableDiffusion;
using LatentLab.Imaging;
using LatentLab.Tests.StableDiffusion;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Tests.Cli.Commands.StableDiffusion;

/// <summary>morph and walk on the tiny model: frames, strip, GIF, resuming.</summary>
public sealed class MorphWalkCommandTests : IDisposable
{
    private readonly string _folder = TestPaths.NewTemporaryFolder();
    private readonly string? _savedModelVariable = Environment.GetEnvironmentVariable(Sd3CommandOptions.ModelVariable);

    public MorphWalkCommandTests() => Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, null);

    public void Dispose() => Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, _savedModelVariable);

    // Small and quick: 32x32 pictures, 1 step, float32, no T5.
    private static readonly string[] Common =
        ["--model", Sd3TestData.ModelFolder, "--steps", "1", "--size", "32x32", "--dtype", "f32", "--no-t5"];

    private static torch.Tensor Picture(string path)
    {
        using SKBitmap bitmap = ImageFiles.Decode(path);
        return ImageTensors.FromBitmap(bitmap);
    }

    [Fact]
    public void Morph_with_shared_noise_starts_at_the_plain_picture_of_prompt_a_and_resumes()
    {
        string morph = Path.Combine(_folder, "morph");
        CliRunner.Result result = CliRunner.Run(["morph", "a red cube", "a blue sphere", "--frames", "3", "--seed", "3",
            "--batch", "2", "--out", morph, .. Common]);
        Assert.True(result.ExitCode == 0, result.Error);
        string plain = Path.Combine(_folder, "plain.png");
        result = CliRunner.Run(["generate", "a red cube", "--seed", "3", "--out", plain, .. Common]);
        Assert.True(result.ExitCode == 0, result.Error);

        using var scope = torch.NewDisposeScope();
        string first = Path.Combine(morph, "frame-000.png");
        TensorAssert.Close(Picture(plain), Picture(first), 1.01 / 255, 0);
        Assert.False(Picture(first).allclose(Picture(Path.Combine(morph, "frame-002.png")), 0, 0.02));
        Assert.True(File.Exists(Path.Combine(morph, "morph-strip.png")));
        Assert.True(File.Exists(Path.Combine(morph, "morph.gif")));
        using (SKBitmap strip = ImageFiles.Decode(Path.Combine(morph, "morph-strip.png")))
            Assert.Equal(3 * 32 + 2 * 2, strip.Width);   // 2 pixels between tiles

        // Resume: a missing frame is rendered again, the others are kept as they are.
        torch.Tensor middle = Picture(Path.Combine(morph, "frame-001.png"));
        File.Delete(Path.Combine(morph, "frame-001.png"));
        DateTime firstWritten = File.GetLastWriteTimeUtc(first);
        result = CliRunner.Run(["morph", "a red cube", "a blue sphere", "--frames", "3", "--seed", "3", "--out", morph,
            .. Common]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("2 of 3 frames already", result.Out, StringComparison.Ordinal);
        Assert.Equal(firstWritten, File.GetLastWriteTimeUtc(first));
        TensorAssert.Close(middle, Picture(Path.Combine(morph, "frame-001.png")), 1.01 / 255, 0);

        // Frames of another run are not silently mixed in.
        result = CliRunner.Run(["morph", "a red cube", "a green cone", "--frames", "3", "--seed", "3", "--out", morph,
            .. Common]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("another run", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public void Walk_loops_through_the_prompts_and_noise_walk_circles_one_prompt()
    {
        string walk = Path.Combine(_folder, "walk");
        CliRunner.Result result = CliRunner.Run(["walk", "a cat", "a dog", "a bird", "--frames-per-segment", "2",
            "--seed", "1", "--batch", "3", "--out", walk, .. Common]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(6, Directory.GetFiles(walk, "frame-*.png").Length);
        Assert.True(File.Exists(Path.Combine(walk, "walk.gif")));
        Assert.Contains("a dog -> a bird", ImageFiles.ReadPngText(Path.Combine(walk, "frame-002.png"))["parameters"],
            StringComparison.Ordinal);

        string noise = Path.Combine(_folder, "noise");
        result = CliRunner.Run(["walk", "a cat", "--noise-walk", "--frames", "4", "--seed", "1", "--out", noise, .. Common]);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(4, Directory.GetFiles(noise, "frame-*.png").Length);

        // Frame 0 of the noise walk is the plain picture of that seed (angle 0: the first noise alone).
        string plain = Path.Combine(_folder, "cat.png");
        Assert.Equal(0, CliRunner.Run(["generate", "a cat", "--seed", "1", "--out", plain, .. Common]).ExitCode);
        using var scope = torch.NewDisposeScope();
        TensorAssert.Close(Picture(plain), Picture(Path.Combine(noise, "frame-000.png")), 1.01 / 255, 0);
    }

    [Fact]
    public void Walk_with_one_prompt_and_no_noise_walk_is_a_usage_error()
    {
        CliRunner.Result result = CliRunner.Run(["walk", "a cat", .. Common]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("two or more prompts", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
