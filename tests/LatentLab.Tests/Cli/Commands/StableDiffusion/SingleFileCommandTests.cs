using LatentLab.Cli.Commands.StableDiffusion;
using LatentLab.Imaging;
using LatentLab.Tests.StableDiffusion;
using LatentLab.Tests.StableDiffusion.Checkpoints;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Tests.Cli.Commands.StableDiffusion;

/// <summary><c>--model</c> given a single .safetensors file.</summary>
public sealed class SingleFileCommandTests : IDisposable
{
    private readonly string _folder = TestPaths.NewTemporaryFolder();
    private readonly string? _savedModelVariable = Environment.GetEnvironmentVariable(Sd3CommandOptions.ModelVariable);

    public SingleFileCommandTests() => Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, null);

    public void Dispose() => Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, _savedModelVariable);

    [Fact]
    public void Generate_from_a_single_file_writes_the_reference_picture()
    {
        string checkpoint = Sd3SingleFileTests.WriteTinySingleFile(_folder, includeTextEncoders: true);
        string output = Path.Combine(_folder, "single.png");
        string prompt = Sd3TestData.Scalars("sd3").GetProperty("prompt").GetString()!;
        CliRunner.Result result = CliRunner.Run("generate", prompt, "--model", checkpoint, "--text-model",
            Sd3TestData.ModelFolder, "--steps", "2", "--seed", "0", "--size", "128x64", "--dtype", "f32", "--out", output);
        Assert.True(result.ExitCode == 0, result.Error);

        Assert.Contains("Model: sd3_tiny_incl_clips_t5", ImageFiles.ReadPngText(output)["parameters"], StringComparison.Ordinal);
        using var scope = torch.NewDisposeScope();
        using SKBitmap bitmap = ImageFiles.Decode(output);
        torch.Tensor expected = Sd3TestData.Golden("sd3", "pipe.images")[0].permute(2, 0, 1);
        TensorAssert.Close(expected, ImageTensors.FromBitmap(bitmap), 1.01 / 255, 0);
    }

    [Fact]
    public void A_single_file_without_clips_and_no_text_model_is_one_clear_line()
    {
        string checkpoint = Sd3SingleFileTests.WriteTinySingleFile(_folder, includeTextEncoders: false);
        CliRunner.Result result = CliRunner.Run("generate", "a cat", "--model", checkpoint, "--steps", "1");
        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.Contains("--text-model", line, StringComparison.Ordinal);
        Assert.Contains("no CLIP text encoders", line, StringComparison.Ordinal);
    }
}
