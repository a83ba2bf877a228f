using LatentLab.Data;
using LatentLab.Diffusion;

namespace LatentLab.Tests.Diffusion;

public class BundledTrainingTests
{
    [Fact]
    public async Task A_short_run_on_the_bundled_data_learns_to_predict_noise()
    {
        TinyDiffusion.Prepare();
        ImageSet digits = await MnistFamily.LoadAsync(new MnistRequest(null, null, null, MnistSplit.Test),
            new FileDownloader(), null, CancellationToken.None);
        // 1,280 of the bundled Fashion-MNIST images, padded to 32 and shrunk to 16 pixels, a small U-Net: seconds.
        ImageSet images = ImageSetTransforms.PadThenResize(digits.Slice(0, 1280), 32, 16);
        var config = new DiffusionConfig
        {
            ImageSize = 16,
            Channels = 1,
            Widths = [16, 32],
            BlockDepth = 1,
            BatchSize = 32,
        };
        using var trainer = new DiffusionTrainer(config, images, new DiffusionTrainingOptions
        {
            Epochs = 1,
            Seed = 3,
            MaxSteps = 40,
            SampleRows = 0,
        }, TestPaths.NewTemporaryFolder());
        var losses = new List<double>();
        var progress = new SynchronousProgress<DiffusionTrainingProgress>(update => losses.Add(update.NoiseLoss));

        trainer.Run(progress);

        // Running means: the first steps sit near sqrt(2/pi) = 0.798 (the network starts by predicting zero noise).
        Assert.Equal(40, losses.Count);
        Assert.True(losses[0] > 0.7, $"first step {losses[0]}");
        Assert.True(losses[^1] < 0.6, $"running mean after 40 steps {losses[^1]}");
    }

    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
