using System.Diagnostics;
using System.Globalization;
using System.Text;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Trains a <see cref="DiffusionModel"/> on an <see cref="ImageSet"/> as the chapter's <c>fit</c> does, writing into a
/// run folder after every epoch: the checkpoint (atomic, exact resume), <c>model.safetensors</c> to sample from,
/// a 3x6 grid of samples from fixed noise (<c>samples/epoch_NNN.png</c>) and the loss curve
/// (<c>losses.csv</c>, <c>losses.png</c>). Cancelling the token stops after the current step and saves.
/// </summary>
public sealed class DiffusionTrainer : IDisposable
{
    /// <summary>The noise loss of always predicting zero noise: E|N(0, 1)| = sqrt(2/π).</summary>
    public static readonly double ZeroPredictionLoss = Math.Sqrt(2 / Math.PI);

    private readonly ImageSet _data;
    private readonly DiffusionTrainingOptions _options;
    private readonly string _runDirectory;
    private readonly Device _device;
    private readonly DiffusionOptimizer _optimizer;
    private DiffusionTrainingState _state;

    /// <summary>
    /// Prepares a run: a new one (weights seeded, normaliser adapted on <paramref name="data"/>) or, when
    /// <paramref name="resume"/> is set, the run folder's checkpoint restored.
    /// </summary>
    /// <exception cref="ArgumentException">Data that does not fit the config, or bad options.</exception>
    /// <exception cref="InvalidDataException">A checkpoint that cannot be read.</exception>
    public DiffusionTrainer(DiffusionConfig config, ImageSet data, DiffusionTrainingOptions options,
        string runDirectory, bool resume = false, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runDirectory);
        config.Validate();
        options.Validate();
        if (data.Channels != config.Channels || data.Height != config.ImageSize || data.Width != config.ImageSize)
        {
            throw new ArgumentException(
                $"data: images are {data.Channels}x{data.Height}x{data.Width} but the model expects " +
                $"{config.Channels}x{config.ImageSize}x{config.ImageSize}.");
        }
        if (data.Count < config.BatchSize)
        {
            throw new ArgumentException(
                $"data: {data.Count} images make no full batch of {config.BatchSize} (the remainder is dropped).");
        }

        _data = data;
        _options = options;
        _runDirectory = runDirectory;
        _device = device ?? CPU;
        manual_seed(options.Seed);
        Model = new DiffusionModel(config);
        if (!resume) Model.Normalizer.Adapt(Batches(data, 1000));
        Model.to(_device);
        _optimizer = new DiffusionOptimizer(Model, options.Seed);
        _state = resume
            ? DiffusionCheckpoint.Restore(runDirectory, Model, _optimizer)
            : new DiffusionTrainingState { Seed = options.Seed };
        if (resume && _state.Seed != options.Seed)
        {
            throw new ArgumentException(
                $"seed: the run in {runDirectory} was started with seed {_state.Seed}; resume it with that seed.");
        }
        // A finished run asked for more epochs continues from its final (averaged) weights, as a second Keras fit()
        // would; its optimiser moments and running average carry on.
        if (resume && _state.Finished && options.Epochs > _state.EpochsDone) _state = _state with { Finished = false };
    }

    /// <summary>The model being trained.</summary>
    public DiffusionModel Model { get; }

    /// <summary>The optimiser, learning-rate schedule and weight average.</summary>
    public DiffusionOptimizer Optimizer => _optimizer;

    /// <summary>The run's state (as of the last step).</summary>
    public DiffusionTrainingState State => _state;

    /// <summary>Optimiser updates per epoch: images / batch size, the remainder dropped.</summary>
    public int StepsPerEpoch => _data.Count / Model.Config.BatchSize;

    /// <summary>
    /// Trains until <see cref="DiffusionTrainingOptions.Epochs"/> are done, <see cref="DiffusionTrainingOptions.MaxSteps"/>
    /// is reached or <paramref name="cancellationToken"/> is cancelled; saves after every epoch and on stopping.
    /// </summary>
    public DiffusionTrainingResult Run(IProgress<DiffusionTrainingProgress>? progress = null,
        IProgress<DiffusionEpochRecord>? epochs = null, CancellationToken cancellationToken = default)
    {
        int batchSize = Model.Config.BatchSize;
        int stepsPerEpoch = StepsPerEpoch;
        long stepsThisCall = 0;
        while (_state.EpochsDone < _options.Epochs && !_state.Finished)
        {
            int epoch = _state.EpochsDone; // 0-based
            int[] order = Shuffle(_data.Count, _options.Seed, epoch);
            var clock = Stopwatch.StartNew();
            int firstStep = _state.StepsDoneInEpoch;
            double noiseSum = _state.NoiseLossSum, imageSum = _state.ImageLossSum, learningRate = 0;
            for (int step = firstStep; step < stepsPerEpoch; step++)
            {
                bool stepLimit = _options.MaxSteps is { } maxSteps && _state.Iterations >= maxSteps;
                if (cancellationToken.IsCancellationRequested || stepLimit)
                {
                    _state = _state with { StepsDoneInEpoch = step, NoiseLossSum = noiseSum, ImageLossSum = imageSum };
                    Save();
                    return new DiffusionTrainingResult(false, cancellationToken.IsCancellationRequested, _state);
                }

                DiffusionStepResult result;
                using (NewDisposeScope())
                {
                    using Tensor images = _data.ToTensor(order.AsSpan(step * batchSize, batchSize));
                    result = _optimizer.Step(images.to(_device));
                }
                noiseSum += result.NoiseLoss;
                imageSum += result.ImageLoss;
                learningRate = result.LearningRate;
                stepsThisCall++;
                _state = _state with { Iterations = _optimizer.Iterations };
                int done = step + 1 - firstStep;
                progress?.Report(new DiffusionTrainingProgress(epoch + 1, _options.Epochs, step + 1, stepsPerEpoch,
                    noiseSum / (step + 1), imageSum / (step + 1), learningRate,
                    done * batchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }

            var record = new DiffusionEpochRecord(epoch + 1, noiseSum / stepsPerEpoch, imageSum / stepsPerEpoch,
                learningRate, clock.Elapsed.TotalSeconds);
            bool last = epoch + 1 == _options.Epochs;
            if (last) _optimizer.Finish();
            _state = _state with
            {
                EpochsDone = epoch + 1,
                StepsDoneInEpoch = 0,
                NoiseLossSum = 0,
                ImageLossSum = 0,
                Finished = last,
                History = [.. _state.History, record],
            };
            Save();
            WriteSamples(epoch + 1);
            WriteLossCurve();
            epochs?.Report(record);
        }

        // A run resumed with --epochs no larger than the epochs it had done: finish it as the last epoch would have.
        if (!_state.Finished)
        {
            _optimizer.Finish();
            _state = _state with { Finished = true };
            Save();
            if (_state.EpochsDone > 0) WriteSamples(_state.EpochsDone);
        }
        return new DiffusionTrainingResult(true, false, _state);
    }

    /// <summary>Whether the last <paramref name="epochs"/> epochs all kept the noise loss near sqrt(2/π) ≈ 0.798.</summary>
    public static bool LooksStuck(IReadOnlyList<DiffusionEpochRecord> history, int epochs = 2, double margin = 0.03)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history.Count >= epochs
               && history.TakeLast(epochs).All(record => Math.Abs(record.NoiseLoss - ZeroPredictionLoss) < margin);
    }

    /// <summary>The per-epoch order of the images: a Fisher-Yates shuffle seeded by the run's seed and the epoch.</summary>
    public static int[] Shuffle(int count, long seed, int epoch)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        // System.Random with an explicit seed is a fixed algorithm across .NET versions.
        var random = new Random(unchecked((int)(seed * 1_000_003 + epoch * 7919 + 17)));
        random.Shuffle(order);
        return order;
    }

    private void Save() => DiffusionCheckpoint.Save(_runDirectory, Model, _optimizer, _state);

    private void WriteSamples(int epoch)
    {
        int count = _options.SampleRows * _options.SampleColumns;
        if (count == 0) return;
        // After the last epoch the weights are the average already; copying it in again changes nothing.
        DiffusionCheckpoint.WithAveragedWeights(_optimizer, () =>
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator((ulong)_options.Seed);
            Tensor noise = Model.InitialNoise(count, generator, _device);
            Tensor images = Model.Generate(noise, _options.SampleSteps).cpu();
            Tensor grid = ImageGrid.Compose(images, _options.SampleColumns);
            string path = Path.Combine(_runDirectory, "samples",
                string.Create(CultureInfo.InvariantCulture, $"epoch_{epoch:D3}.png"));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ImageFiles.SavePng(path, grid, overwrite: true);
        });
    }

    private void WriteLossCurve()
    {
        var csv = new StringBuilder("epoch,noise_loss,image_loss,learning_rate,seconds\n");
        foreach (DiffusionEpochRecord record in _state.History)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{record.Epoch},{record.NoiseLoss:R},{record.ImageLoss:R},{record.LearningRate:R},{record.Seconds:F2}\n");
        }
        AtomicFiles.WriteAllText(Path.Combine(_runDirectory, "losses.csv"), csv.ToString());
        LossChart.Save(Path.Combine(_runDirectory, "losses.png"), _state.History);
    }

    private static IEnumerable<Tensor> Batches(ImageSet data, int batch)
    {
        for (int start = 0; start < data.Count; start += batch)
        {
            Tensor images = data.ToTensor(start, Math.Min(batch, data.Count - start));
            try
            {
                yield return images;
            }
            finally
            {
                images.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }
}
