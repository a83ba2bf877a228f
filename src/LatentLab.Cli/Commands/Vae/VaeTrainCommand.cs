using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Vae;
using TorchSharp;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae train</c>: trains a VAE, checkpointing every epoch; Ctrl-C saves and stops.</summary>
internal static class VaeTrainCommand
{
    public static Command Create()
    {
        var command = new Command("train",
            "Train the chapter's VAE (Adam 1e-3, batch 128, 30 epochs by default). A checkpoint is written to " +
            "RUN_DIR/checkpoint after every epoch; Ctrl-C finishes the current step, saves and exits, and " +
            "--resume continues exactly where it stopped. A finished run draws its latent grid to " +
            "RUN_DIR/grid.png.\n\nExamples:\n" +
            "  latentlab vae train --epochs 5\n" +
            "  latentlab vae train --data-dir /usr/share/datasets/fashion-mnist --out runs/fashion\n" +
            "  latentlab vae train --dataset mnist --split all --out runs/mnist --seed 1\n" +
            "  latentlab vae train --out runs/fashion --resume --epochs 40");
        VaeCliOptions.DataOptions data = VaeCliOptions.AddData(command, "all");
        Option<int> epochs = CommonOptions.AtLeast("--epochs", 1, 30, "Epochs to train in all.", maximum: 100_000);
        Option<int> batchSize = CommonOptions.AtLeast("--batch-size", 1, 128, "Images per step.", maximum: 65_536);
        Option<int> latentDim = CommonOptions.AtLeast("--latent-dim", 1, 2, "Latent dimensions (2 can be drawn).", maximum: 4096);
        var learningRate = new Option<double>("--learning-rate")
        {
            Description = "Adam's learning rate.",
            DefaultValueFactory = _ => 1e-3,
        };
        learningRate.Validators.Add(result =>
        {
            if (CommonOptions.ParsedValue<double>(result) is not { } value) return;
            if (!(value > 0 && double.IsFinite(value)))
            {
                result.AddError($"--learning-rate must be a positive number (got {value}).");
            }
        });
        var klReduction = new Option<string>("--kl-reduction")
        {
            Description = "mean: KL averaged over batch and latent dims (the chapter's); sum: summed over latent " +
                          "dims (keras.io's, the true ELBO).",
            DefaultValueFactory = _ => "mean",
        };
        klReduction.AcceptOnlyFromAmong("mean", "sum");
        Option<int?> seed = CommonOptions.Seed();
        var output = new Option<string>("--out")
        {
            Description = "Run folder for the checkpoint and results.",
            DefaultValueFactory = _ => VaeCliOptions.DefaultRun,
        };
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out." };
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[]
                 {
                     epochs, batchSize, latentDim, learningRate, klReduction, seed, output, resume, force, device,
                     threads,
                 })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            // 1. Check the output before any slow work.
            string runFolder = parse.GetValue(output)!;
            string checkpoint = Path.Combine(runFolder, VaeCheckpoint.RunCheckpointFolder);
            bool resuming = parse.GetValue(resume);
            bool hasRun = Directory.Exists(checkpoint);
            if (resuming && !hasRun)
            {
                throw new UsageException($"--resume: {runFolder} holds no checkpoint to continue.");
            }
            if (!resuming && hasRun && !parse.GetValue(force))
            {
                throw new UsageException($"{runFolder} already holds a training run; pass --resume to continue it " +
                                         "or --force to start over.");
            }
            if (resuming)
            {
                foreach (Option fixedOption in new Option[] { batchSize, latentDim, learningRate, klReduction, seed })
                {
                    if (parse.GetResult(fixedOption) is { Implicit: false })
                    {
                        throw new UsageException(
                            $"{fixedOption.Name} cannot change when resuming; the run keeps its saved settings.");
                    }
                }
            }
            EnsureWritableFolder(runFolder);
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);

            // 2. Data, then the trainer (new or resumed).
            (ImageSet images, string dataDescription) =
                await VaeCliOptions.LoadDataAsync(parse, data, cancellationToken).ConfigureAwait(false);
            using VaeTrainer trainer = resuming
                ? VaeTrainer.Resume(checkpoint, parse.GetResult(epochs) is { Implicit: false }
                    ? parse.GetValue(epochs)
                    : null, torchDevice, CliLogging.Factory)
                : VaeTrainer.Create(
                    new VaeConfig(parse.GetValue(latentDim), images.Height, images.Channels,
                        parse.GetValue(klReduction) == "sum" ? KlReduction.Sum : KlReduction.Mean),
                    new VaeTrainingOptions(parse.GetValue(epochs), parse.GetValue(batchSize),
                        parse.GetValue(learningRate), CommonOptions.ResolveSeed(parse.GetValue(seed))),
                    torchDevice, CliLogging.Factory);

            VaeTrainingOptions options = trainer.Options;
            int stepsPerEpoch = (images.Count + options.BatchSize - 1) / options.BatchSize;
            CliOutput.Summary("latentlab vae train",
            [
                ("data", dataDescription),
                ("model", string.Create(CultureInfo.InvariantCulture,
                    $"VAE, latent {trainer.Model.Config.LatentDim}, {trainer.Model.ParameterCount:N0} parameters, " +
                    $"KL {trainer.Model.Config.KlReduction.ToString().ToLowerInvariant()}")),
                ("epochs", resuming
                    ? $"{options.Epochs} (resuming after epoch {trainer.CompletedEpochs}, step {trainer.StepInEpoch})"
                    : options.Epochs.ToString(CultureInfo.InvariantCulture)),
                ("batch size", $"{options.BatchSize} ({stepsPerEpoch} steps per epoch)"),
                ("optimizer",
                    string.Create(CultureInfo.InvariantCulture, $"Adam, learning rate {options.LearningRate}")),
                ("device", $"{torchDevice}, {torch.get_num_threads()} thread(s)"),
                ("seed", options.Seed.ToString(CultureInfo.InvariantCulture)),
                ("output", Path.GetFullPath(runFolder)),
            ]);

            // 3. Train, one bar per epoch and one plain line at each epoch's end.
            using var bars = new EpochBars();
            VaeTrainingResult result = trainer.Train(images, checkpoint, bars, cancellationToken);
            bars.Dispose();
            if (!result.Completed)
            {
                CliOutput.Warn($"stopped in epoch {result.CompletedEpochs + 1}; checkpoint saved to {checkpoint}. " +
                               $"Continue with: latentlab vae train --out {runFolder} --resume");
                return ExitCodes.Interrupted;
            }
            CliOutput.Line($"done: {result.CompletedEpochs} epochs; checkpoint {checkpoint}");
            DrawLatentGrid(trainer.Model, runFolder, parse.GetValue(force));
            CliOutput.Line($"next: latentlab vae scatter --model {runFolder}   (see 'latentlab vae --help')");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Draws the latent grid into the run folder when the latent is 2-D (never replacing one).</summary>
    private static void DrawLatentGrid(LatentLab.Vae.Vae vae, string runFolder, bool force)
    {
        if (vae.Config.LatentDim != 2) return;
        string path = Path.Combine(runFolder, "grid.png");
        if (File.Exists(path) && !force)
        {
            CliOutput.Warn(
                $"{path} exists and was kept; redraw it with: latentlab vae grid --model {runFolder} --force");
            return;
        }
        using torch.Tensor grid = VaeFigures.LatentGrid(vae);
        ImageFiles.SavePng(path, grid, new Dictionary<string, string> { ["Software"] = "latentlab vae train" },
            overwrite: true);
        CliOutput.Line($"wrote {path} (30x30 latent grid over z in [-1, 1]^2)");
    }

    private static void EnsureWritableFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write to output folder {folder}: {error.Message}", error);
        }
    }

    /// <summary>Turns trainer progress into a bar per epoch plus one greppable line when the epoch ends.</summary>
    private sealed class EpochBars : IProgress<VaeTrainingProgress>, IDisposable
    {
        private ConsoleProgress? _bar;
        private int _epoch;

        public void Report(VaeTrainingProgress value)
        {
            if (value.Epoch != _epoch || _bar is null)
            {
                _bar?.Dispose();
                _epoch = value.Epoch;
                _bar = ConsoleProgress.Start($"epoch {value.Epoch}/{value.Epochs}", value.StepsPerEpoch);
            }
            if (value.EpochCompleted)
            {
                _bar.Complete(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {value.Epoch}/{value.Epochs} loss={value.Loss:F2} reconstruction=" +
                    $"{value.ReconstructionLoss:F2} kl={value.KlLoss:F4} " +
                    $"images_per_second={value.ImagesPerSecond:F0} " +
                    $"time={value.Elapsed.TotalSeconds:F1}s"));
                _bar.Dispose();
                _bar = null;
                return;
            }
            _bar.Report(value.Step, string.Create(CultureInfo.InvariantCulture,
                $"loss {value.Loss:F1}  recon {value.ReconstructionLoss:F1}  kl {value.KlLoss:F3}  " +
                $"{value.ImagesPerSecond:F0} img/s"));
        }

        public void Dispose()
        {
            _bar?.Dispose();
            _bar = null;
        }
    }
}
