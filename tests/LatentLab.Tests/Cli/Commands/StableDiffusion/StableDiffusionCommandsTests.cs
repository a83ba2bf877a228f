using LatentLab.Cli;
using LatentLab.Cli.Commands.StableDiffusion;
using LatentLab.Imaging;
using LatentLab.Tests.StableDiffusion;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Tests.Cli.Commands.StableDiffusion;

/// <summary>The generate and steps commands, run in process on the tiny model.</summary>
public sealed class StableDiffusionCommandsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sd3-cli").FullName;
    private readonly string? _savedModelVariable = Environment.GetEnvironmentVariable(Sd3CommandOptions.ModelVariable);

    public StableDiffusionCommandsTests() => Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, null);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(Sd3CommandOptions.ModelVariable, _savedModelVariable);
        Directory.Delete(_folder, true);
    }

    private static string Prompt => Sd3TestData.Scalars("sd3").GetProperty("prompt").GetString()!;

    private string OutputPath(string name) => Path.Combine(_folder, name);

    private static Task<int> Run(params string[] args) => Program.Run(args);

    [Fact]
    public async Task Generate_writes_the_reference_picture_with_its_parameters()
    {
        string output = OutputPath("astronaut.png");
        int exit = await Run("generate", Prompt, "--model", Sd3TestData.ModelFolder, "--steps", "2", "--seed", "0",
            "--size", "128x64", "--dtype", "f32", "--out", output);
        Assert.Equal(0, exit);

        string parameters = ImageFiles.ReadPngText(output)["parameters"];
        Assert.Equal($"{Prompt}\nNegative prompt: \nSteps: 2, Sampler: Euler, CFG scale: 7, Seed: 0, Size: 128x64, " +
                     "Model: model", parameters);
        using var scope = torch.NewDisposeScope();
        using SKBitmap bitmap = ImageFiles.Decode(output);
        torch.Tensor written = ImageTensors.FromBitmap(bitmap); // [3, 64, 128]
        torch.Tensor expected = Sd3TestData.Golden("sd3", "pipe.images")[0].permute(2, 0, 1);
        TensorAssert.Close(expected, written, 1.01 / 255, 0);
    }

    [Fact]
    public async Task Count_makes_one_file_per_picture_with_consecutive_seeds()
    {
        string output = OutputPath("batch.png");
        int exit = await Run("generate", "a cat", "--model", Sd3TestData.ModelFolder, "--steps", "1", "--seed", "5",
            "--size", "32x32", "--count", "2", "--no-t5", "--out", output);
        Assert.Equal(0, exit);
        Assert.Contains("Seed: 5,", ImageFiles.ReadPngText(OutputPath("batch-1.png"))["parameters"], StringComparison.Ordinal);
        Assert.Contains("Seed: 6,", ImageFiles.ReadPngText(OutputPath("batch-2.png"))["parameters"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steps_puts_the_step_counts_side_by_side_under_labels()
    {
        string output = OutputPath("steps.png");
        int exit = await Run("steps", "a cat", "--model", Sd3TestData.ModelFolder, "--steps", "1,2,3", "--seed", "0",
            "--size", "32x32", "--out", output);
        Assert.Equal(0, exit);
        using SKBitmap bitmap = ImageFiles.Decode(output);
        Assert.Equal(3 * 32 + 2 * 8, bitmap.Width);
        Assert.Equal(32 + 28, bitmap.Height);
        Assert.Contains("Step counts: 1 2 3", ImageFiles.ReadPngText(output)["parameters"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_model_the_user_is_told_where_the_weights_are()
    {
        Assert.Equal(2, await Run("generate", "a cat"));
        Assert.Equal(2, await Run("steps", "a cat"));
        string help = string.Join("\n", Sd3CommandOptions.NoModelHelp);
        Assert.Contains("stabilityai/stable-diffusion-3-medium-diffusers", help, StringComparison.Ordinal);
        Assert.Contains("licence", help, StringComparison.Ordinal);
        Assert.Contains("--model", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--size", "100x64")]
    [InlineData("--size", "big")]
    [InlineData("--steps", "0")]
    [InlineData("--guidance", "-1")]
    [InlineData("--dtype", "f16")]
    [InlineData("--max-sequence-length", "0")]
    [InlineData("--count", "0")]
    public async Task Bad_values_are_usage_errors(string option, string value)
    {
        Assert.Equal(2, await Run("generate", "a cat", "--model", Sd3TestData.ModelFolder, option, value,
            "--out", OutputPath("never.png")));
        Assert.False(File.Exists(OutputPath("never.png")));
    }

    [Fact]
    public async Task A_bad_steps_list_is_a_usage_error()
    {
        Assert.Equal(2, await Run("steps", "a cat", "--model", Sd3TestData.ModelFolder, "--steps", "5,x"));
    }

    [Fact]
    public async Task An_unreadable_model_folder_fails_with_exit_code_one()
    {
        Assert.Equal(1, await Run("generate", "a cat", "--model", OutputPath("no-such-model"),
            "--out", OutputPath("never.png")));
    }

    [Fact]
    public async Task An_existing_output_is_kept_without_force()
    {
        string output = OutputPath("exists.png");
        await File.WriteAllTextAsync(output, "keep me");
        Assert.Equal(1, await Run("generate", "a cat", "--model", Sd3TestData.ModelFolder, "--out", output));
        Assert.Equal("keep me", await File.ReadAllTextAsync(output));
    }

    [Fact]
    public void A_long_prompt_warning_names_the_dropped_words()
    {
        Assert.Null(Sd3CommandOptions.TruncationWarning("prompt", []));
        Assert.Contains("red apple", Sd3CommandOptions.TruncationWarning("prompt", ["red", "apple"]), StringComparison.Ordinal);
    }
}
