using LatentLab.Data;
using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class DiffusionTrainerTests
{
    // 40 blurry blobs of 8x8, one channel: 5 steps of 8 per epoch.
    private static ImageSet Blobs()
    {
        var random = new Random(3);
        var pixels = new byte[40 * 64];
        for (int image = 0; image < 40; image++)
        {
            double cx = random.Next(2, 6), cy = random.Next(2, 6);
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    pixels[image * 64 + y * 8 + x] = (byte)(255 * Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 4));
        }
        return new ImageSet(pixels, 40, 1, 8, 8);
    }

    private static DiffusionConfig Config => TinyDiffusion.Config() with { BatchSize = 8, EmaOverwriteFrequency = 3 };

    private static DiffusionTrainingOptions Options => new() { Epochs = 2, Seed = 5, SampleSteps = 2, SampleRows = 1, SampleColumns = 2 };

    [Fact]
    public void Interrupted_and_resumed_run_matches_an_uninterrupted_one()
    {
        TinyDiffusion.Prepare();
        ImageSet data = Blobs();
        string straight = TestPaths.NewTemporaryFolder(), interrupted = TestPaths.NewTemporaryFolder();

        DiffusionTrainingResult full;
        using (var trainer = new DiffusionTrainer(Config, data, Options, straight)) full = trainer.Run();

        // Stop after 7 steps (mid second epoch), then resume in a fresh trainer.
        using (var trainer = new DiffusionTrainer(Config, data, Options with { MaxSteps = 7 }, interrupted))
        {
            DiffusionTrainingResult stopped = trainer.Run();
            Assert.False(stopped.Completed);
            Assert.Equal((1, 2), (stopped.State.EpochsDone, stopped.State.StepsDoneInEpoch));
        }
        DiffusionTrainingResult resumed;
        using (var trainer = new DiffusionTrainer(Config, data, Options, interrupted, resume: true)) resumed = trainer.Run();

        Assert.True(full.Completed && resumed.Completed);
        Assert.Equal(full.State.History.Select(r => r.NoiseLoss), resumed.State.History.Select(r => r.NoiseLoss));
        Assert.Equal(10, resumed.State.Iterations);
        using DiffusionModel a = DiffusionCheckpoint.LoadModel(straight);
        using DiffusionModel b = DiffusionCheckpoint.LoadModel(interrupted);
        foreach (((string name, Tensor left), (_, Tensor right)) in a.state_dict().Zip(b.state_dict()))
            TensorAssert.Close(left, right, 0, 0, name);
        Assert.True(File.Exists(Path.Combine(straight, "samples", "epoch_002.png")));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(straight, "losses.csv")).Length);
        Assert.True(File.Exists(Path.Combine(straight, "losses.png")));
    }

    [Fact]
    public void Resuming_a_run_whose_epochs_are_done_applies_the_weight_average()
    {
        TinyDiffusion.Prepare();
        string folder = TestPaths.NewTemporaryFolder();
        DiffusionTrainingOptions options = Options with { Epochs = 2, SampleRows = 0, MaxSteps = 5 };
        using (var trainer = new DiffusionTrainer(Config, Blobs(), options, folder)) trainer.Run();
        // Stopped right after epoch 1 of 2: the average never replaced the weights. Resume asking for 1 epoch.
        DiffusionTrainingState stopped = DiffusionCheckpoint.ReadState(folder);
        Assert.Equal((1, 0, false), (stopped.EpochsDone, stopped.StepsDoneInEpoch, stopped.Finished));

        using var resumed = new DiffusionTrainer(Config, Blobs(), options with { Epochs = 1, MaxSteps = null }, folder,
            resume: true);
        float[] average = resumed.Optimizer.Average!.Averages[0].data<float>().ToArray();
        DiffusionTrainingResult result = resumed.Run();

        Assert.True(result.Completed && result.State.Finished);
        Assert.Equal(5, result.State.Iterations);
        Assert.Equal(average, resumed.Optimizer.Parameters[0].data<float>().ToArray());
    }

    [Fact]
    public void A_finished_run_resumed_with_more_epochs_trains_them()
    {
        TinyDiffusion.Prepare();
        string folder = TestPaths.NewTemporaryFolder();
        using (var trainer = new DiffusionTrainer(Config, Blobs(), Options with { Epochs = 1, SampleRows = 0 }, folder))
            Assert.True(trainer.Run().State.Finished);

        using var resumed = new DiffusionTrainer(Config, Blobs(), Options with { Epochs = 2, SampleRows = 0 }, folder,
            resume: true);
        DiffusionTrainingResult result = resumed.Run();

        Assert.True(result.Completed && result.State.Finished);
        Assert.Equal(2, result.State.EpochsDone);
        Assert.Equal(2, result.State.History.Count);
        Assert.Equal(10, result.State.Iterations);
    }

    [Fact]
    public void Saved_model_generates_what_the_trained_model_generates()
    {
        TinyDiffusion.Prepare();
        string folder = TestPaths.NewTemporaryFolder();
        using var trainer = new DiffusionTrainer(Config, Blobs(), Options with { Epochs = 1 }, folder);
        trainer.Run();
        using Tensor expected = trainer.Model.Generate(trainer.Model.InitialNoise(2, new Generator(1)), 3);
        using DiffusionModel loaded = DiffusionCheckpoint.LoadModel(folder);
        using Tensor actual = loaded.Generate(loaded.InitialNoise(2, new Generator(1)), 3);
        TensorAssert.Close(expected, actual, 0, 0);
        // The normaliser statistics travel with the weights.
        TensorAssert.Close(trainer.Model.Normalizer.Mean, loaded.Normalizer.Mean, 0, 0);
        Assert.True(loaded.Normalizer.Mean.item<float>() > 0.05f);
    }

    [Fact]
    public void Another_models_weights_are_refused_with_the_file_named()
    {
        TinyDiffusion.Prepare();
        string folder = TestPaths.NewTemporaryFolder();
        using (var trainer = new DiffusionTrainer(Config, Blobs(), Options with { Epochs = 1, SampleRows = 0 }, folder))
            trainer.Run();
        File.WriteAllText(Path.Combine(folder, "config.json"),
            (Config with { Widths = [4, 16] }).ToJson());
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => DiffusionCheckpoint.LoadModel(folder));
        Assert.Contains("model.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_of_the_wrong_size_is_refused()
    {
        TinyDiffusion.Prepare();
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            new DiffusionTrainer(Config with { ImageSize = 16 }, Blobs(), Options, TestPaths.NewTemporaryFolder()));
        Assert.Contains("1x8x8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stuck_detection_looks_for_losses_near_sqrt_two_over_pi()
    {
        DiffusionEpochRecord Epoch(int epoch, double loss) => new(epoch, loss, 1, 1e-3, 1);
        Assert.Equal(0.7978845608, DiffusionTrainer.ZeroPredictionLoss, 9);
        Assert.True(DiffusionTrainer.LooksStuck([Epoch(1, 0.80), Epoch(2, 0.79)]));
        Assert.False(DiffusionTrainer.LooksStuck([Epoch(1, 0.80)]));
        Assert.False(DiffusionTrainer.LooksStuck([Epoch(1, 0.80), Epoch(2, 0.30)]));
    }

    [Fact]
    public void Shuffle_is_a_seeded_permutation_that_changes_each_epoch()
    {
        int[] first = DiffusionTrainer.Shuffle(50, 7, 0);
        Assert.Equal(Enumerable.Range(0, 50), first.Order());
        Assert.Equal(first, DiffusionTrainer.Shuffle(50, 7, 0));
        Assert.NotEqual(first, DiffusionTrainer.Shuffle(50, 7, 1));
        Assert.NotEqual(first, DiffusionTrainer.Shuffle(50, 8, 0));
    }
}
