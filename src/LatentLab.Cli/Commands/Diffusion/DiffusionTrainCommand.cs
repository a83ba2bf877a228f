using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Diffusion;
using LatentLab.Runtime;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary><c>latentlab diffusion train</c>: trains the chapter's diffusion model into a run folder.</summary>
internal static class DiffusionTrainCommand
{
    public static Command Create()
    {
        var data = new DiffusionDataOptions();
        Option<int?> imageSize = new("--image-size")
        {
            Description = "Image side in pixels, divisible by 2^(number of widths - 1). Default 32 for the MNIST " +
                          "family, 128 for pictures.",
        };
        Option<string> widths = new("--widths")
        {
            Description = "U-Net widths per resolution, comma-separated.",
            DefaultValueFactory = _ => "32,64,96,128",
        };
        Option<int> blockDepth = CommonOptions.AtLeast("--block-depth", 1, 2, "Residual blocks per U-Net stage.");
        Option<int> epochs = CommonOptions.AtLeast("--epochs", 1, 100, "Epochs to train (a resumed run continues to this).");
        Option<int> batchSize = CommonOptions.AtLeast("--batch-size", 1, 32, "Images per batch (the remainder is dropped).");
        Option<double> learningRate = new("--learning-rate")
        {
            Description = "Initial learning rate of the inverse-time decay lr / (1 + 0.1 step / 1000).",
            DefaultValueFactory = _ => 1e-3,
        };
        Option<double> weightDecay = new("--weight-decay")
        {
            Description = "AdamW decoupled weight decay.",
            DefaultValueFactory = _ => 0.004,
        };
        Option<bool> noEma = new("--no-ema") { Description = "Train without the weight average." };
        Option<double> emaMomentum = new("--ema-momentum")
        {
            Description = "Momentum of the weight average.",
            DefaultValueFactory = _ => 0.99,
        };
        Option<int> emaEvery = CommonOptions.AtLeast("--ema-overwrite-every", 0, 100,
            "Replace the live weights by the average every N steps (0: never).");
        Option<int> sampleSteps = CommonOptions.AtLeast("--sample-steps", 1, 20,
            "Diffusion steps for the per-epoch sample grid.");
        Option<long?> maxSteps = new("--max-steps")
        {
            Description = "Stop (and save) after this many optimiser steps in total; for quick trials.",
        };
        Option<string> output = new("--out")
        {
            Description = "Run folder for checkpoints, samples and the loss curve.",
            DefaultValueFactory = _ => Path.Combine("runs", "diffusion"),
        };
        Option<bool> resume = new("--resume") { Description = "Continue the run in --out exactly where it stopped." };
        Option<int?> seed = CommonOptions.Seed();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();

        var command = new Command("train", """
            Train the chapter's denoising diffusion model (U-Net, offset cosine schedule, AdamW with weight average).
            Each epoch writes an atomic checkpoint, model.safetensors, a 3x6 sample grid and the loss curve to --out.
            Ctrl-C finishes the current step, saves and exits; --resume continues exactly.

            Examples:
              latentlab diffusion train --epochs 5 --out runs/fashion
              latentlab diffusion train --images ~/pictures --image-size 64 --epochs 50 --out runs/mine
              latentlab diffusion train --dataset oxford-flowers --image-size 64 --out runs/flowers
              latentlab diffusion train --out runs/fashion --epochs 10 --resume
            """);
        data.AddTo(command);
        foreach (Option option in new Option[]
                 {
                     imageSize, widths, blockDepth, epochs, batchSize, learningRate, weightDecay, noEma, emaMomentum,
                     emaEvery, sampleSteps, maxSteps, output, resume, seed, device, threads, force,
                 })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TorchRuntime.EnsureLoaded();
            CommonOptions.ApplyThreads(parse.GetValue(threads));
            TorchSharp.torch.Device torchDevice = TorchRuntime.ParseDevice(parse.GetValue(device)!);
            string runDirectory = Path.GetFullPath(parse.GetValue(output)!);
            bool resuming = parse.GetValue(resume);
            var options = new DiffusionTrainingOptions
            {
                Epochs = parse.GetValue(epochs),
                SampleSteps = parse.GetValue(sampleSteps),
                MaxSteps = parse.GetValue(maxSteps),
            };

            // 1. The model config: from the run folder when resuming, else from the options.
            DiffusionConfig config;
            if (resuming)
            {
                if (!DiffusionCheckpoint.HasCheckpoint(runDirectory))
                    throw new UsageException($"--resume: {runDirectory} holds no diffusion checkpoint to continue.");
                config = DiffusionCheckpoint.LoadConfig(runDirectory);
                long savedSeed = DiffusionCheckpoint.ReadState(runDirectory).Seed;
                if (parse.GetValue(seed) is { } given && given != savedSeed)
                    throw new UsageException($"--seed {given}: the run in {runDirectory} was started with seed {savedSeed}.");
                options = options with { Seed = savedSeed };
            }
            else
            {
                PrepareRunFolder(runDirectory, parse.GetValue(force));
                config = new DiffusionConfig
                {
                    ImageSize = parse.GetValue(imageSize) ?? data.DefaultImageSize(parse),
                    Channels = data.IsGrayscale(parse) ? 1 : 3,
                    Widths = ParseWidths(parse.GetValue(widths)!),
                    BlockDepth = parse.GetValue(blockDepth),
                    BatchSize = parse.GetValue(batchSize),
                    LearningRate = parse.GetValue(learningRate),
                    WeightDecay = parse.GetValue(weightDecay),
                    UseEma = !parse.GetValue(noEma),
                    EmaMomentum = parse.GetValue(emaMomentum),
                    EmaOverwriteFrequency = parse.GetValue(emaEvery),
                };
                options = options with { Seed = CommonOptions.ResolveSeed(parse.GetValue(seed)) };
            }
            try
            {
                config.Validate();
                options.Validate();
            }
            catch (ArgumentException error)
            {
                throw new UsageException(error.Message, error);
            }

            // 2. Data at the model's size.
            ImageSet images = await data.LoadAsync(parse, config.ImageSize, MnistSplit.All, cancellationToken);
            if (images.Channels != config.Channels)
            {
                throw new UsageException(
                    $"--resume: the run was trained on {config.Channels}-channel images; this data has {images.Channels}.");
            }

            // 3. Build (or restore) and describe the run.
            using var trainer = new DiffusionTrainer(config, images, options, runDirectory, resuming, torchDevice);
            DiffusionTrainingState state = trainer.State;
            CliOutput.Summary("diffusion train", [
                ("data", $"{data.Describe(parse)}: {images.Count:N0} images {images.Channels}x{images.Height}x{images.Width}"),
                ("model", $"U-Net widths {string.Join(",", config.Widths)}, block depth {config.BlockDepth}, " +
                          $"{trainer.Model.Network.TrainableParameterCount:N0} parameters " +
                          $"({trainer.Model.Network.KerasParameterCount:N0} with batch-norm statistics, as Keras counts)"),
                ("epochs", resuming ? $"{options.Epochs} (resuming after epoch {state.EpochsDone}, step {state.StepsDoneInEpoch})"
                    : options.Epochs.ToString(CultureInfo.InvariantCulture)),
                ("batch", $"{config.BatchSize} images, {trainer.StepsPerEpoch} steps per epoch (remainder dropped)"),
                ("optimiser", FormattableString.Invariant(
                    $"AdamW lr {config.LearningRate:G3}/(1 + {config.DecayRate} step/{config.DecaySteps}), weight decay {config.WeightDecay}, ") +
                    (config.UseEma
                        ? FormattableString.Invariant($"weight average {config.EmaMomentum} (overwrite every {config.EmaOverwriteFrequency} steps)")
                        : "no weight average")),
                ("device", $"{parse.GetValue(device)}, {TorchSharp.torch.get_num_threads()} threads"),
                ("seed", options.Seed.ToString(CultureInfo.InvariantCulture)),
                ("run folder", runDirectory),
            ]);

            // 4. Train, one bar per epoch.
            ConsoleProgress? bar = null;
            int barEpoch = -1;
            var steps = new InlineProgress<DiffusionTrainingProgress>(update =>
            {
                if (update.Epoch != barEpoch)
                {
                    bar?.Dispose();
                    bar = ConsoleProgress.Start($"epoch {update.Epoch}/{update.Epochs}", update.StepsPerEpoch);
                    barEpoch = update.Epoch;
                }
                bar!.Report(update.Step, string.Create(CultureInfo.InvariantCulture,
                    $"noise {update.NoiseLoss:F4}  image {update.ImageLoss:F4}  lr {update.LearningRate:0.000e0}  " +
                    $"{update.ImagesPerSecond:F0} img/s"));
            });
            var epochLog = new List<DiffusionEpochRecord>(state.History);
            var epochsDone = new InlineProgress<DiffusionEpochRecord>(record =>
            {
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"epoch {record.Epoch}/{options.Epochs} noise_loss={record.NoiseLoss:F4} image_loss={record.ImageLoss:F4} " +
                    $"lr={record.LearningRate:0.000e0} time={record.Seconds:F1}s");
                if (bar is not null) bar.Complete(line);
                else CliOutput.Line(line);
                bar?.Dispose();
                bar = null;
                barEpoch = -1;
                epochLog.Add(record);
                if (DiffusionTrainer.LooksStuck(epochLog))
                {
                    CliOutput.Warn(FormattableString.Invariant(
                        $"the noise loss has stayed near {DiffusionTrainer.ZeroPredictionLoss:F3} (what predicting no ") +
                        "noise gives): the model is not learning; try a lower --learning-rate or check the data.");
                }
            });

            DiffusionTrainingResult result;
            try
            {
                result = await Task.Run(() => trainer.Run(steps, epochsDone, cancellationToken), CancellationToken.None);
            }
            finally
            {
                bar?.Dispose();
            }

            if (result.Cancelled)
            {
                CliOutput.Line($"saved after epoch {result.State.EpochsDone}, step {result.State.StepsDoneInEpoch}; " +
                               $"continue with --resume --out {runDirectory}");
                return ExitCodes.Interrupted;
            }
            if (!result.Completed)
            {
                CliOutput.Line($"stopped at --max-steps after {result.State.Iterations} steps; saved in {runDirectory}.");
                return ExitCodes.Ok;
            }
            CliOutput.Line($"done: {runDirectory}/{DiffusionCheckpoint.ModelFile} (weight average applied), samples in " +
                           $"{Path.Combine(runDirectory, "samples")}, loss curve in {Path.Combine(runDirectory, "losses.png")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Parses "32,64,96,128".</summary>
    internal static int[] ParseWidths(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
                throw new UsageException($"--widths '{text}': expected positive integers separated by commas, e.g. 32,64,96,128.");
        }
        if (values.Length == 0)
            throw new UsageException("--widths: expected at least one width, e.g. 32,64,96,128.");
        return values;
    }

    /// <summary>Refuses to start over an existing run unless --force, which clears the run's own files.</summary>
    private static void PrepareRunFolder(string runDirectory, bool force)
    {
        if (File.Exists(runDirectory))
            throw new UsageException($"--out {runDirectory} is a file; give a folder for the run.");
        bool hasRun = File.Exists(Path.Combine(runDirectory, DiffusionCheckpoint.ConfigFile))
                      || Directory.Exists(Path.Combine(runDirectory, DiffusionCheckpoint.CheckpointFolder));
        if (!hasRun) return;
        if (!force)
        {
            throw new UsageException(
                $"--out {runDirectory} already holds a run; add --resume to continue it or --force to start over.");
        }
        foreach (string file in new[] { DiffusionCheckpoint.ConfigFile, DiffusionCheckpoint.ModelFile, "losses.csv", "losses.png" })
            File.Delete(Path.Combine(runDirectory, file));
        foreach (string folder in new[] { DiffusionCheckpoint.CheckpointFolder, "samples" })
        {
            string path = Path.Combine(runDirectory, folder);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
    }
}
