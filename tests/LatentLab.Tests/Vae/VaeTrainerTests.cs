using LatentLab.Data;
using LatentLab.Vae;
using TorchSharp;
using static TorchSharp.torch;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Tests.Vae;

public sealed class VaeTrainerTests : IDisposable
{
    private static readonly Lazy<ImageSet> Bundled = new(() => MnistFamily.LoadBundled(MnistSplit.Test));
    private readonly string _directory = Directory.CreateTempSubdirectory("latentlab-vae-").FullName;
    private readonly int _threads = torch.get_num_threads();

    public VaeTrainerTests()
    {
        // One thread: these steps are tiny, and on a busy machine idle OpenMP threads spin and burn CPU for nothing.
        torch.set_num_threads(1);
    }

    public void Dispose()
    {
        torch.set_num_threads(_threads);
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Recorder(Action<VaeTrainingProgress>? onReport = null) : IProgress<VaeTrainingProgress>
    {
        public List<VaeTrainingProgress> Reports { get; } = [];

        public void Report(VaeTrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    private static ImageSet Subset(int count) => Bundled.Value.Slice(0, count);

    [Fact]
    public void Resumed_run_gives_the_same_losses_and_weights_as_an_uninterrupted_one()
    {
        ImageSet data = Subset(200);
        var options = new VaeTrainingOptions(Epochs: 2, BatchSize: 32, Seed: 123);

        // A: two epochs in one go.
        using VaeTrainer straight = VaeTrainer.Create(new VaeConfig(), options);
        VaeTrainingResult expected = straight.Train(data, Path.Combine(_directory, "a"));

        // B: interrupted in the middle of the first epoch (after step 3 of 7), then resumed from its checkpoint.
        string checkpoint = Path.Combine(_directory, "b");
        using var cancellation = new CancellationTokenSource();
        var recorder = new Recorder(report =>
        {
            if (report is { Epoch: 1, Step: 3 }) cancellation.Cancel();
        });
        VaeTrainingResult stopped;
        using (VaeTrainer first = VaeTrainer.Create(new VaeConfig(), options))
        {
            stopped = first.Train(data, checkpoint, recorder, cancellation.Token);
        }
        using VaeTrainer resumed = VaeTrainer.Resume(checkpoint);
        Assert.Equal((0, 3), (resumed.CompletedEpochs, resumed.StepInEpoch));
        VaeTrainingResult actual = resumed.Train(data, checkpoint);

        Assert.False(stopped.Completed);
        Assert.Equal(3, recorder.Reports.Count); // the step in progress finished; no further step started
        Assert.True(expected.Completed && actual.Completed);
        Assert.Equal(expected.History.Select(e => (e.Loss, e.ReconstructionLoss, e.KlLoss)),
            actual.History.Select(e => (e.Loss, e.ReconstructionLoss, e.KlLoss)));
        foreach ((string name, Tensor value) in straight.Model.state_dict())
        {
            TensorAssert.Equal(value, resumed.Model.state_dict()[name], $"{name} after resume");
        }
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_outputs()
    {
        using VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(Epochs: 1, BatchSize: 50,
            Seed: 5));
        string checkpoint = Path.Combine(_directory, "run", VaeCheckpoint.RunCheckpointFolder);
        trainer.Train(Subset(100), checkpoint);
        using Tensor images = Subset(8).ToTensor(0, 8);
        using Tensor latents = randn([6, 2], generator: new Generator(1, CPU));

        // Loaded through the run folder, as the CLI does.
        using VaeModel loaded = VaeCheckpoint.Load(Path.Combine(_directory, "run"));

        (Tensor mean, Tensor logVar) = trainer.Model.Encode(images);
        (Tensor loadedMean, Tensor loadedLogVar) = loaded.Encode(images);
        TensorAssert.Close(mean, loadedMean, atol: 0, rtol: 0);
        TensorAssert.Close(logVar, loadedLogVar, atol: 0, rtol: 0);
        TensorAssert.Close(trainer.Model.Decode(latents), loaded.Decode(latents), atol: 0, rtol: 0);
        TensorAssert.Close(trainer.Model.Reconstruct(images), loaded.Reconstruct(images), atol: 0, rtol: 0);
        Assert.Equal(new VaeConfig(), loaded.Config);
    }

    [Fact]
    public void Short_training_on_the_bundled_data_lowers_the_loss()
    {
        ImageSet data = Subset(2_000);
        using Tensor heldOut = Bundled.Value.ToTensor(9_000, 256);
        using VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(Epochs: 2, BatchSize: 64,
            Seed: 1));
        double before = ReconstructionError(trainer.Model, heldOut);
        var recorder = new Recorder();

        VaeTrainingResult result = trainer.Train(data, checkpointDirectory: null, recorder);

        double after = ReconstructionError(trainer.Model, heldOut);
        Assert.True(result.Completed);
        Assert.True(result.History[1].Loss < result.History[0].Loss,
            $"epoch losses {result.History[0].Loss} then {result.History[1].Loss}");
        // An untrained decoder gives ~0.5 everywhere (~543 nats); a few hundred steps reach well below 400.
        Assert.True(after < 0.8 * before, $"held-out reconstruction {before:F1} -> {after:F1} nats/image");
        Assert.Equal(2 * 32 + 2, recorder.Reports.Count); // 32 steps per epoch plus one epoch-end report each
        Assert.All(recorder.Reports.Where(r => r.EpochCompleted), r => Assert.Equal(32, r.Step));
    }

    private static double ReconstructionError(VaeModel vae, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        (Tensor mean, _) = vae.EncodeWithGradients(images);
        return VaeLoss.ReconstructionPerImage(vae.DecodeLogits(mean), images).mean().item<float>();
    }

    [Fact]
    public void Same_seed_gives_the_same_losses_and_another_seed_does_not()
    {
        double[] Losses(int seed)
        {
            using VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(),
                new VaeTrainingOptions(Epochs: 1, BatchSize: 32, Seed: seed));
            var recorder = new Recorder();
            trainer.Train(Subset(96), null, recorder);
            return [.. recorder.Reports.Select(r => r.Loss)];
        }

        Assert.Equal(Losses(7), Losses(7));
        Assert.NotEqual(Losses(7), Losses(8));
    }

    [Fact]
    public void Checkpoint_of_another_model_is_a_clear_error()
    {
        string other = Path.Combine(_directory, "diffusion-run", "checkpoint");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "config.json"), """{ "model_type": "ddpm", "image_size": 32 }""");
        File.WriteAllBytes(Path.Combine(other, "model.safetensors"), [0]);

        InvalidDataException error = Assert.Throws<InvalidDataException>(
            () => VaeCheckpoint.Load(Path.Combine(_directory, "diffusion-run")));
        Assert.Contains("is a 'ddpm' checkpoint, not a VAE", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => VaeTrainer.Resume(other));
    }

    [Fact]
    public void Missing_checkpoint_names_the_path()
    {
        string path = Path.Combine(_directory, "nothing-here");
        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => VaeCheckpoint.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_on_other_data_is_refused()
    {
        string checkpoint = Path.Combine(_directory, "c");
        using (VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(Epochs: 1, BatchSize: 64)))
        {
            trainer.Train(Subset(64), checkpoint);
        }
        using VaeTrainer resumed = VaeTrainer.Resume(checkpoint, epochs: 2);
        ArgumentException error = Assert.Throws<ArgumentException>(() => resumed.Train(Bundled.Value.Slice(64, 64),
            checkpoint));
        Assert.Contains("other data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluation_bounds_are_consistent()
    {
        using VaeTrainer trainer = VaeTrainer.Create(new VaeConfig(), new VaeTrainingOptions(Epochs: 1, BatchSize: 64));
        trainer.Train(Subset(640), null);

        VaeEvaluation evaluation = VaeEvaluator.Evaluate(trainer.Model, Bundled.Value.Slice(9_000, 64),
            importanceSamples: 16, batchSize: 32, seed: 3);

        Assert.Equal(64, evaluation.Images);
        Assert.Equal(evaluation.Reconstruction + evaluation.Kl, evaluation.NegativeElbo, 1e-9);
        Assert.True(evaluation.Kl > 0);
        // The importance-weighted bound is tighter than the ELBO: lower, but not absurdly so.
        Assert.InRange(evaluation.ImportanceWeightedNll, evaluation.NegativeElbo - 50, evaluation.NegativeElbo);
    }

    [Fact]
    public void Shuffle_is_a_permutation_that_changes_with_the_epoch()
    {
        int[] first = VaeTrainer.ShuffledIndices(1000, seed: 1, epoch: 0);
        Assert.Equal(Enumerable.Range(0, 1000), first.Order());
        Assert.Equal(first, VaeTrainer.ShuffledIndices(1000, seed: 1, epoch: 0));
        Assert.NotEqual(first, VaeTrainer.ShuffledIndices(1000, seed: 1, epoch: 1));
        Assert.NotEqual(first, VaeTrainer.ShuffledIndices(1000, seed: 2, epoch: 0));
    }
}
