using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using LatentLab.Data;
using LatentLab.Weights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// Trains a <see cref="Vae"/> as the chapter does (Adam, learning rate 1e-3, batch 128, 30 epochs by default),
/// reporting progress through <see cref="IProgress{T}"/>, writing a checkpoint atomically after every epoch, and
/// stopping cleanly on cancellation: the current step finishes, a checkpoint is saved, and
/// <see cref="Resume"/> continues from that very step.
/// </summary>
/// <remarks>
/// Everything random comes from the seed: the initial weights, the order of the images in each epoch (a
/// Fisher-Yates shuffle with <see cref="Random"/> seeded by seed and epoch, so it needs no saved state) and the
/// sampler's noise (a torch generator whose state is saved). With the same seed, data and thread count, a run gives
/// the same losses, resumed or not.
/// </remarks>
public sealed partial class VaeTrainer : IDisposable
{
    private readonly AdamOptimizer _optimizer;
    private readonly Generator _sampler;
    private readonly ILogger _logger;
    private VaeTrainerState _state;

    private VaeTrainer(Vae model, VaeTrainingOptions options, AdamOptimizer optimizer, Generator sampler,
        VaeTrainerState state, ILoggerFactory? loggerFactory)
    {
        Model = model;
        Options = options;
        _optimizer = optimizer;
        _sampler = sampler;
        _state = state;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<VaeTrainer>();
    }

    /// <summary>The model being trained (owned by the trainer until it is disposed).</summary>
    public Vae Model { get; }

    /// <summary>The effective options (for a resumed run: the saved ones, with the new epoch count).</summary>
    public VaeTrainingOptions Options { get; }

    /// <summary>Epochs fully done so far, earlier runs included.</summary>
    public int CompletedEpochs => _state.CompletedEpochs;

    /// <summary>Steps already done in the next epoch (non-zero only after an interruption).</summary>
    public int StepInEpoch => _state.StepInEpoch;

    /// <summary>One summary per completed epoch, earlier runs included.</summary>
    public IReadOnlyList<VaeEpochSummary> History => _state.History;

    /// <summary>Starts a new run: a VAE initialised from <see cref="VaeTrainingOptions.Seed"/>.</summary>
    /// <exception cref="ArgumentException">The config or an option is out of range.</exception>
    public static VaeTrainer Create(VaeConfig config, VaeTrainingOptions options, Device? device = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        device ??= CPU;
        Vae model;
        // Weights are drawn on the CPU, so a seed gives the same initial model on every device.
        using (var initialisation = new Generator(unchecked((ulong)options.Seed), CPU))
        {
            model = new Vae(config, initialisation);
        }
        if (device.type != DeviceType.CPU) model.to(device);
        var optimizer = new AdamOptimizer(model.named_parameters(), options.LearningRate);
        var sampler = new Generator(SamplerSeed(options.Seed), device);
        var state = new VaeTrainerState(options, 0, 0, VaePartialEpoch.Empty, [], 0, "");
        return new VaeTrainer(model, options, optimizer, sampler, state, loggerFactory);
    }

    /// <summary>
    /// Continues the run saved at <paramref name="path"/> (a run folder or checkpoint folder): weights, Adam state,
    /// sampler state, epoch and step are restored, so the losses continue as if the run had never stopped.
    /// </summary>
    /// <param name="path">The run folder or its checkpoint folder.</param>
    /// <param name="epochs">A new total epoch count, or null to keep the saved one.</param>
    /// <param name="device">Where to train; default CPU.</param>
    /// <param name="loggerFactory">Optional logging.</param>
    /// <exception cref="FileNotFoundException">No checkpoint there.</exception>
    /// <exception cref="InvalidDataException">Not a VAE training checkpoint, or a damaged one.</exception>
    /// <exception cref="ArgumentException"><paramref name="epochs"/> is fewer than the epochs already done.</exception>
    public static VaeTrainer Resume(string path, int? epochs = null, Device? device = null,
        ILoggerFactory? loggerFactory = null)
    {
        string directory = VaeCheckpoint.ResolveDirectory(path);
        VaeConfig config = VaeCheckpoint.ReadConfig(directory); // checks the model type before anything else
        VaeTrainerState state = VaeCheckpoint.ReadTrainerState(directory);
        VaeTrainingOptions options = epochs is null ? state.Options : state.Options with { Epochs = epochs.Value };
        options.Validate();
        if (options.Epochs < state.CompletedEpochs)
        {
            throw new ArgumentException(
                $"epochs {options.Epochs} is fewer than the {state.CompletedEpochs} already done in {directory}.");
        }
        device ??= CPU;
        Vae model = VaeCheckpoint.Load(directory, device);
        if (model.Config != config) throw new InvalidDataException($"{directory}: config changed while loading.");
        var optimizer = new AdamOptimizer(model.named_parameters(), options.LearningRate);
        var sampler = new Generator(SamplerSeed(options.Seed), device);
        try
        {
            string optimizerPath = Path.Combine(directory, VaeCheckpoint.OptimizerFile);
            using (SafeTensorsFile file = SafeTensorsFile.Open(optimizerPath))
            {
                if (!file.Metadata.TryGetValue("step", out string? stepText) ||
                    !long.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
                {
                    throw new InvalidDataException($"{optimizerPath}: metadata has no valid 'step'.");
                }
                optimizer.Restore(name => file.Tensors.ContainsKey(name) ? file.ReadTensor(name) : null, step,
                    optimizerPath);
            }
            string rngPath = Path.Combine(directory, VaeCheckpoint.RngFile);
            using (SafeTensorsFile file = SafeTensorsFile.Open(rngPath))
            {
                if (!file.Tensors.ContainsKey(VaeCheckpoint.SamplerGeneratorKey))
                {
                    throw new InvalidDataException($"{rngPath}: no {VaeCheckpoint.SamplerGeneratorKey} state.");
                }
                using Tensor generatorState = file.ReadTensor(VaeCheckpoint.SamplerGeneratorKey);
                sampler.set_state(generatorState);
            }
        }
        catch
        {
            optimizer.Dispose();
            sampler.Dispose();
            model.Dispose();
            throw;
        }
        var trainer = new VaeTrainer(model, options, optimizer, sampler, state with { Options = options },
            loggerFactory);
        trainer.LogResumed(directory, state.CompletedEpochs, state.StepInEpoch);
        return trainer;
    }

    /// <summary>
    /// Trains until <see cref="VaeTrainingOptions.Epochs"/> epochs are done or <paramref name="cancellationToken"/>
    /// is cancelled. After every epoch, and when cancelled (after finishing the current step), a checkpoint is
    /// written to <paramref name="checkpointDirectory"/> if given, replacing the previous one atomically.
    /// </summary>
    /// <param name="data">Training images; their channels and size must match the model.</param>
    /// <param name="checkpointDirectory">Where to keep the checkpoint, or null for none.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch.</param>
    /// <param name="cancellationToken">Stops the run cleanly; no exception is thrown for it.</param>
    /// <exception cref="ArgumentException">Images that do not fit the model or the resumed run.</exception>
    public VaeTrainingResult Train(ImageSet data, string? checkpointDirectory,
        IProgress<VaeTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckData(data);
        int batchSize = Options.BatchSize;
        int stepsPerEpoch = (data.Count + batchSize - 1) / batchSize;

        for (int epoch = _state.CompletedEpochs; epoch < Options.Epochs; epoch++)
        {
            int[] order = ShuffledIndices(data.Count, Options.Seed, epoch);
            int step = _state.StepInEpoch;
            VaePartialEpoch sums = step > 0 ? _state.PartialEpoch : VaePartialEpoch.Empty;
            double secondsBefore = sums.Seconds;
            var clock = Stopwatch.StartNew();
            while (step < stepsPerEpoch)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    _state = _state with { StepInEpoch = step, PartialEpoch = sums };
                    if (checkpointDirectory is not null) SaveCheckpoint(checkpointDirectory);
                    LogInterrupted(epoch + 1, step);
                    return new VaeTrainingResult(false, _state.CompletedEpochs, _state.History);
                }
                int start = step * batchSize;
                int count = Math.Min(batchSize, data.Count - start);
                (double loss, double reconstruction, double kl) = TrainStep(data, order.AsSpan(start, count));
                step++;
                sums = new VaePartialEpoch(sums.LossSum + loss, sums.ReconstructionSum + reconstruction,
                    sums.KlSum + kl, sums.Images + count, secondsBefore + clock.Elapsed.TotalSeconds);
                progress?.Report(Report(epoch, step, stepsPerEpoch, sums, epochCompleted: false));
            }

            var summary = new VaeEpochSummary(epoch + 1, sums.LossSum / step, sums.ReconstructionSum / step,
                sums.KlSum / step, sums.Images / Math.Max(sums.Seconds, 1e-9));
            _state = _state with
            {
                CompletedEpochs = epoch + 1,
                StepInEpoch = 0,
                PartialEpoch = VaePartialEpoch.Empty,
                History = [.. _state.History, summary],
            };
            if (checkpointDirectory is not null) SaveCheckpoint(checkpointDirectory);
            progress?.Report(Report(epoch, step, stepsPerEpoch, sums, epochCompleted: true));
        }
        return new VaeTrainingResult(true, _state.CompletedEpochs, _state.History);
    }

    /// <summary>Writes a training checkpoint (weights, config, Adam and RNG state, progress) atomically.</summary>
    public void SaveCheckpoint(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        VaeCheckpoint.SaveTraining(directory, Model, _optimizer, _sampler, _state);
        LogCheckpointSaved(directory, _state.CompletedEpochs, _state.StepInEpoch);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        _sampler.Dispose();
        Model.Dispose();
    }

    /// <summary>
    /// The order of the images in one epoch: Fisher-Yates with a <see cref="Random"/> seeded from the run's seed
    /// and the epoch, so a resumed run recomputes the same order without saving it.
    /// </summary>
    internal static int[] ShuffledIndices(int count, int seed, int epoch)
    {
        var random = new Random(unchecked((seed * 1_000_003) ^ (epoch * 7_919 + 17)));
        int[] order = [.. Enumerable.Range(0, count)];
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private (double Loss, double Reconstruction, double Kl) TrainStep(ImageSet data, ReadOnlySpan<int> indices)
    {
        using var scope = NewDisposeScope();
        Tensor images = data.ToTensor(indices).to(Model.Device); // [B, C, H, W]

        // 1. Encode, sample z with the run's generator, decode.
        (Tensor logits, Tensor mean, Tensor logVar) = Model.Forward(images, _sampler);

        // 2. Loss: reconstruction + KL, reduced as the config says.
        (Tensor total, Tensor reconstruction, Tensor kl) =
            VaeLoss.Compute(logits, images, mean, logVar, Model.Config.KlReduction);

        // 3. Gradients and Adam's update.
        Model.zero_grad();
        total.backward();
        _optimizer.ApplyGradients();

        // .item() synchronises with the device; once per step is cheap next to the step itself.
        return (total.item<float>(), reconstruction.item<float>(), kl.item<float>());
    }

    private void CheckData(ImageSet data)
    {
        VaeConfig config = Model.Config;
        if (data.Count == 0) throw new ArgumentException("the training data holds no images.");
        if (data.Channels != config.Channels || data.Height != config.ImageSize || data.Width != config.ImageSize)
        {
            throw new ArgumentException(
                $"the training images are {data.Channels}x{data.Height}x{data.Width} but the model expects " +
                $"{config.Channels}x{config.ImageSize}x{config.ImageSize}.");
        }
        string fingerprint = Convert.ToHexStringLower(SHA256.HashData(data.Pixels.Span));
        if (_state.DataCount == 0)
        {
            _state = _state with { DataCount = data.Count, DataSha256 = fingerprint };
        }
        else if (_state.DataCount != data.Count || _state.DataSha256 != fingerprint)
        {
            throw new ArgumentException(
                $"the checkpoint was trained on other data ({_state.DataCount} images) than given now " +
                $"({data.Count} images); resume with the same dataset, split and options.");
        }
    }

    private VaeTrainingProgress Report(int epoch, int step, int stepsPerEpoch, VaePartialEpoch sums,
        bool epochCompleted) =>
        new(epoch + 1, Options.Epochs, step, stepsPerEpoch, sums.LossSum / step, sums.ReconstructionSum / step,
            sums.KlSum / step, sums.Images / Math.Max(sums.Seconds, 1e-9), TimeSpan.FromSeconds(sums.Seconds),
            epochCompleted);

    private static ulong SamplerSeed(int seed) => unchecked((ulong)seed + 0x9E37_79B9UL);

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "VAE checkpoint saved to {Directory} " +
                                                              "(epoch {Epoch}, step {Step} of the next)")]
    private partial void LogCheckpointSaved(string directory, int epoch, int step);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "resuming VAE training from {Directory}: {Epochs} epoch(s) and {Step} step(s) done")]
    private partial void LogResumed(string directory, int epochs, int step);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "VAE training interrupted in epoch {Epoch} after step {Step}; checkpoint saved")]
    private partial void LogInterrupted(int epoch, int step);
}
