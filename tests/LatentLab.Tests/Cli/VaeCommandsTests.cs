using System.IO.Compression;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Vae;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Tests.Cli;

/// <summary>The <c>latentlab vae</c> commands run in process: their error paths, and one tiny run of each.</summary>
public sealed class VaeCommandsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("latentlab-vae-cli-").FullName;
    private readonly int _threads = torch.get_num_threads();

    public VaeCommandsTests() => torch.set_num_threads(1);

    public void Dispose()
    {
        torch.set_num_threads(_threads);
        Directory.Delete(_directory, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    /// <summary>A run folder holding a VAE trained for one short epoch, as 'vae train' would leave it.</summary>
    private string TrainedRun()
    {
        string run = PathOf("run");
        using VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(Epochs: 1, BatchSize: 32));
        trainer.Train(MnistFamily.LoadBundled(MnistSplit.Test).Slice(0, 64),
            Path.Combine(run, VaeCheckpoint.RunCheckpointFolder));
        return run;
    }

    /// <summary>A folder with the first `count` bundled test images as t10k IDX files.</summary>
    private string SmallDataDirectory(int count)
    {
        string folder = PathOf("data");
        Directory.CreateDirectory(folder);
        ImageSet bundled = MnistFamily.LoadBundled(MnistSplit.Test).Slice(0, count);
        static byte[] Header(params int[] dimensions) =>
        [
            0, 0, 8, (byte)dimensions.Length,
            .. dimensions.SelectMany(size => new[] { (byte)(size >> 24), (byte)(size >> 16), (byte)(size >> 8), (byte)size }),
        ];
        void Write(string name, byte[] bytes)
        {
            using var gzip = new GZipStream(File.Create(Path.Combine(folder, name)), CompressionLevel.Fastest);
            gzip.Write(bytes);
        }
        Write("t10k-images-idx3-ubyte.gz", [.. Header(count, 28, 28), .. bundled.Pixels.ToArray()]);
        Write("t10k-labels-idx1-ubyte.gz", [.. Header(count), .. bundled.Labels!]);
        return folder;
    }

    private static void AssertOneErrorLine(CliRunner.Result result, int exitCode, string expected)
    {
        Assert.Equal(exitCode, result.ExitCode);
        string line = Assert.Single(result.ErrorLines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--epochs", "-3", "--epochs must be at least 1")]
    [InlineData("--batch-size", "0", "--batch-size must be at least 1")]
    [InlineData("--latent-dim", "0", "--latent-dim must be at least 1")]
    [InlineData("--learning-rate", "-1", "--learning-rate must be a positive number")]
    [InlineData("--kl-reduction", "median", "median")]
    [InlineData("--split", "validation", "--split must be train, test or all")]
    [InlineData("--dataset", "cifar10", "--dataset must be one of mnist, fashion-mnist")]
    [InlineData("--data-dir", "/no/such/folder", "--data-dir /no/such/folder does not exist")]
    public void Bad_training_values_are_one_line_and_exit_code_2(string option, string value, string expected)
    {
        CliRunner.Result result = CliRunner.Run("vae", "train", option, value, "--out", PathOf("never"));

        AssertOneErrorLine(result, ExitCodes.Usage, expected);
        Assert.False(Directory.Exists(Path.Combine(PathOf("never"), "checkpoint")));
    }

    [Fact]
    public void Training_split_of_the_bundled_data_is_refused()
    {
        AssertOneErrorLine(CliRunner.Run("vae", "train", "--split", "train", "--out", PathOf("x")), ExitCodes.Usage,
            "only the Fashion-MNIST test split");
    }

    [Fact]
    public void Unwritable_output_folder_is_a_clear_error()
    {
        AssertOneErrorLine(CliRunner.Run("vae", "train", "--out", "/proc/latentlab-test/run"), ExitCodes.Failed,
            "cannot write to output folder /proc/latentlab-test/run");
    }

    [Fact]
    public void Missing_checkpoint_is_a_clear_error()
    {
        string missing = PathOf("missing-run");
        AssertOneErrorLine(CliRunner.Run("vae", "grid", "--model", missing), ExitCodes.Failed,
            $"--model {missing} does not exist");
        AssertOneErrorLine(CliRunner.Run("vae", "train", "--out", missing, "--resume"), ExitCodes.Usage,
            "holds no checkpoint to continue");
    }

    [Fact]
    public void Checkpoint_of_another_model_is_a_clear_error()
    {
        string other = PathOf("diffusion");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "config.json"), """{ "model_type": "ddpm" }""");
        File.WriteAllBytes(Path.Combine(other, "model.safetensors"), [0]);

        AssertOneErrorLine(CliRunner.Run("vae", "sample", "--model", other), ExitCodes.Failed,
            "is a 'ddpm' checkpoint, not a VAE");
    }

    [Fact]
    public void Results_are_not_overwritten_without_force()
    {
        string run = TrainedRun();
        string grid = Path.Combine(run, "grid.png");

        CliRunner.Result first = CliRunner.Run("vae", "grid", "--model", run);
        DateTime written = File.GetLastWriteTimeUtc(grid);
        CliRunner.Result second = CliRunner.Run("vae", "grid", "--model", run);
        CliRunner.Result forced = CliRunner.Run("vae", "grid", "--model", run, "--force", "--size", "10");

        Assert.Equal(ExitCodes.Ok, first.ExitCode);
        AssertOneErrorLine(second, ExitCodes.Failed, "already exists; choose another output or pass --force");
        Assert.Equal(ExitCodes.Ok, forced.ExitCode);
        using SKBitmap image = ImageFiles.Decode(grid);
        Assert.Equal((280, 280), (image.Width, image.Height)); // replaced by the 10x10 grid
        Assert.True(File.GetLastWriteTimeUtc(grid) >= written);

        AssertOneErrorLine(CliRunner.Run("vae", "train", "--out", run), ExitCodes.Usage,
            "already holds a training run; pass --resume to continue it or --force");
        AssertOneErrorLine(CliRunner.Run("vae", "train", "--out", run, "--resume", "--latent-dim", "3"),
            ExitCodes.Usage, "--latent-dim cannot change when resuming");
    }

    [Fact]
    public void Every_picture_command_writes_its_file()
    {
        string run = TrainedRun();

        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "grid", "--model", run).ExitCode);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "grid", "--model", run, "--labels", "--size", "5",
            "--out", Path.Combine(run, "axes.png")).ExitCode);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "scatter", "--model", run, "--limit", "200").ExitCode);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "sample", "--model", run, "--count", "4", "--seed", "1")
            .ExitCode);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "reconstruct", "--model", run, "--count", "3").ExitCode);
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("vae", "interpolate", "--model", run, "--from", "0",
            "--to-z=1,1", "--steps", "3").ExitCode);

        using SKBitmap grid = ImageFiles.Decode(Path.Combine(run, "grid.png"));
        Assert.Equal((840, 840), (grid.Width, grid.Height));
        using SKBitmap axes = ImageFiles.Decode(Path.Combine(run, "axes.png"));
        Assert.True(axes.Width > 140 && axes.Height > 140);
        foreach (string name in new[] { "scatter.png", "samples.png", "reconstructions.png", "interpolation.png",
                     "interpolation.gif" })
        {
            Assert.True(new FileInfo(Path.Combine(run, name)).Length > 100, name);
        }
    }

    [Fact]
    public void Interpolation_needs_both_ends_once()
    {
        string run = TrainedRun();
        AssertOneErrorLine(CliRunner.Run("vae", "interpolate", "--model", run, "--from", "0"), ExitCodes.Usage,
            "give each end once");
        AssertOneErrorLine(CliRunner.Run("vae", "interpolate", "--model", run, "--from", "0", "--to-z", "1"),
            ExitCodes.Usage, "--to-z has 1 numbers but the model's latent has 2");
        AssertOneErrorLine(CliRunner.Run("vae", "interpolate", "--model", run, "--from", "20000", "--to", "1"),
            ExitCodes.Usage, "--from 20000 is not an image index");
    }

    [Fact]
    public void Train_then_eval_on_a_data_folder()
    {
        string data = SmallDataDirectory(48);
        string run = PathOf("cli-run");

        CliRunner.Result train = CliRunner.Run("vae", "train", "--data-dir", data, "--split", "test", "--epochs", "1",
            "--batch-size", "16", "--seed", "4", "--out", run, "--threads", "1");
        CliRunner.Result eval = CliRunner.Run("vae", "eval", "--model", run, "--data-dir", data, "--samples", "3",
            "--seed", "1", "--threads", "1");

        Assert.Equal(ExitCodes.Ok, train.ExitCode);
        Assert.Contains("done: 1 epochs", train.Out, StringComparison.Ordinal);
        Assert.Contains("epoch 1/1 loss=", train.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run, "checkpoint", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "grid.png"))); // training ends by drawing the latent grid
        Assert.Equal(ExitCodes.Ok, eval.ExitCode);
        Assert.Contains("negative_elbo=", eval.Out, StringComparison.Ordinal);
        Assert.Contains("importance_weighted_nll=", eval.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("grid")]
    [InlineData("scatter")]
    [InlineData("sample")]
    [InlineData("reconstruct")]
    [InlineData("interpolate")]
    [InlineData("eval")]
    public void Help_shows_examples(string command)
    {
        CliRunner.Result result = CliRunner.Run("vae", command, "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("Examples:", result.Out, StringComparison.Ordinal);
        Assert.Contains($"latentlab vae {command}", result.Out, StringComparison.Ordinal);
    }
}
