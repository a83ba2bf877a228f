using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// The chapter's diffusion model: a normaliser adapted on the training images, the noise-predicting U-Net and the
/// offset cosine schedule. Images go in and come out as floats in [0, 1], layout [B, C, H, W]. State-dict keys are
/// <c>normalizer.mean</c>, <c>normalizer.variance</c> and <c>network.*</c>.
/// </summary>
public sealed class DiffusionModel : nn.Module
{
    private readonly ImageNormalizer normalizer;
    private readonly UNet network;

    /// <summary>Builds an untrained model; weights are drawn from torch's global generator (seed it first).</summary>
    public DiffusionModel(DiffusionConfig config) : base(nameof(DiffusionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Schedule = new DiffusionSchedule(config.MinSignalRate, config.MaxSignalRate);
        normalizer = new ImageNormalizer(config.Channels);
        network = new UNet(config);
        RegisterComponents();
    }

    /// <summary>The configuration the model was built from.</summary>
    public DiffusionConfig Config { get; }

    /// <summary>The diffusion schedule.</summary>
    public DiffusionSchedule Schedule { get; }

    /// <summary>The per-channel normaliser (adapt it on the training data before training).</summary>
    public ImageNormalizer Normalizer => normalizer;

    /// <summary>The noise-predicting network.</summary>
    public UNet Network => network;

    /// <summary>
    /// Predicts noise and image from noisy (normalised) images: the network sees the noise variance (noise rate
    /// squared, as the chapter feeds it), and the image follows as (noisy − noise_rate·noise) / signal_rate.
    /// Rates have shape [B, 1, 1, 1].
    /// </summary>
    public (Tensor PredictedNoises, Tensor PredictedImages) Denoise(Tensor noisyImages, Tensor noiseRates,
        Tensor signalRates)
    {
        ArgumentNullException.ThrowIfNull(noisyImages);
        ArgumentNullException.ThrowIfNull(noiseRates);
        ArgumentNullException.ThrowIfNull(signalRates);
        using var scope = NewDisposeScope();
        Tensor predictedNoises = network.forward(noisyImages, noiseRates.square());
        Tensor predictedImages = (noisyImages - noiseRates * predictedNoises) / signalRates;
        return (predictedNoises.MoveToOuterDisposeScope(), predictedImages.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The training objective on one batch of images in [0, 1]: normalise, draw unit noise and uniform diffusion
    /// times from <paramref name="generator"/>, mix, predict. Returns the mean absolute error between true and
    /// predicted noise (the loss to minimise) and between normalised and predicted images (reported only).
    /// </summary>
    public (Tensor NoiseLoss, Tensor ImageLoss) Losses(Tensor images, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        long batch = images.shape[0];
        Tensor normalised;
        using (no_grad()) normalised = normalizer.forward(images);
        Tensor noises = randn(images.shape, generator: generator).to(images.device);
        Tensor diffusionTimes = rand(new long[] { batch, 1, 1, 1 }, generator: generator).to(images.device);
        (Tensor noiseRates, Tensor signalRates) = Schedule.Rates(diffusionTimes);
        (Tensor noiseLoss, Tensor imageLoss) = Losses(normalised, noises, noiseRates, signalRates);
        return (noiseLoss.MoveToOuterDisposeScope(), imageLoss.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The same objective with the noise and rates given (normalised images [B, C, H, W], noises like them, rates
    /// [B, 1, 1, 1]); exposed so a test can work the loss out by hand.
    /// </summary>
    public (Tensor NoiseLoss, Tensor ImageLoss) Losses(Tensor normalisedImages, Tensor noises, Tensor noiseRates,
        Tensor signalRates)
    {
        ArgumentNullException.ThrowIfNull(normalisedImages);
        ArgumentNullException.ThrowIfNull(noises);
        ArgumentNullException.ThrowIfNull(noiseRates);
        ArgumentNullException.ThrowIfNull(signalRates);
        using var scope = NewDisposeScope();
        Tensor noisyImages = signalRates * normalisedImages + noiseRates * noises;
        (Tensor predictedNoises, Tensor predictedImages) = Denoise(noisyImages, noiseRates, signalRates);
        Tensor noiseLoss = (noises - predictedNoises).abs().mean();
        Tensor imageLoss;
        using (no_grad()) imageLoss = (normalisedImages - predictedImages).abs().mean();
        return (noiseLoss.MoveToOuterDisposeScope(), imageLoss.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Unit normal initial noise [count, C, size, size] from <paramref name="generator"/>, drawn on the CPU so the
    /// same seed gives the same noise on every device.
    /// </summary>
    public Tensor InitialNoise(int count, Generator generator, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Tensor noise = randn(new long[] { count, Config.Channels, Config.ImageSize, Config.ImageSize },
            generator: generator);
        return device is null || device.type == DeviceType.CPU ? noise : noise.to(device);
    }

    /// <summary>
    /// The chapter's deterministic (DDIM-style) reverse process: from <paramref name="initialNoise"/> at time 1, step
    /// down in <paramref name="steps"/> equal steps; at each, predict noise and image, then re-noise the predicted
    /// image to the next time's rates. Returns the final predicted images de-normalised and clipped to [0, 1].
    /// When <paramref name="trajectory"/> is given, each step's current images (de-normalised, clipped) are added
    /// to it, starting with the noise itself: steps + 1 entries.
    /// </summary>
    public Tensor Generate(Tensor initialNoise, int steps, IList<Tensor>? trajectory = null)
    {
        ArgumentNullException.ThrowIfNull(initialNoise);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        bool wasTraining = training;
        eval();
        try
        {
            using var guard = no_grad();
            long count = initialNoise.shape[0];
            double stepSize = 1.0 / steps;
            Tensor currentImages = initialNoise.alias();
            Tensor? predictedImages = null;
            trajectory?.Add(ToPixels(currentImages));
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                // Notation: t = diffusion time, (σ_t, s_t) = (noise rate, signal rate).
                double t = 1.0 - step * stepSize;
                double tNext = t - stepSize;
                (double sigmaT, double signalT) = Schedule.Rates(t);
                (double sigmaNext, double signalNext) = Schedule.Rates(tNext);
                Tensor noiseRates = full(new long[] { count, 1, 1, 1 }, sigmaT, device: initialNoise.device);
                Tensor signalRates = full(new long[] { count, 1, 1, 1 }, signalT, device: initialNoise.device);
                (Tensor predictedNoises, Tensor images) = Denoise(currentImages, noiseRates, signalRates);
                Tensor nextImages = images * signalNext + predictedNoises * sigmaNext;
                currentImages.Dispose();
                predictedImages?.Dispose();
                currentImages = nextImages.MoveToOuterDisposeScope();
                predictedImages = images.MoveToOuterDisposeScope();
                if (trajectory is not null)
                {
                    Tensor frame = ToPixels(step == steps - 1 ? predictedImages : currentImages);
                    trajectory.Add(frame.MoveToOuterDisposeScope());
                }
            }
            currentImages.Dispose();
            Tensor result = ToPixels(predictedImages!);
            predictedImages!.Dispose();
            return result;
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>De-normalises and clips to [0, 1] (pixel value / 255).</summary>
    public Tensor ToPixels(Tensor normalisedImages)
    {
        ArgumentNullException.ThrowIfNull(normalisedImages);
        using var scope = NewDisposeScope();
        return normalizer.Denormalize(normalisedImages).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Spherical interpolation between two noises of the same shape at fraction <paramref name="t"/> in [0, 1]:
    /// sin((1−t)θ)/sin θ · a + sin(tθ)/sin θ · b, θ the angle between them (flattened); linear when they are
    /// (nearly) parallel. Keeps the norm a unit-normal sample should have, unlike the straight line.
    /// </summary>
    public static Tensor Slerp(Tensor a, Tensor b, double t)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var scope = NewDisposeScope();
        Tensor flatA = a.flatten().to(float64), flatB = b.flatten().to(float64);
        double cosine = (flatA.dot(flatB) / (flatA.norm() * flatB.norm())).item<double>();
        double theta = Math.Acos(Math.Clamp(cosine, -1.0, 1.0));
        Tensor result = Math.Sin(theta) < 1e-6
            ? a * (1 - t) + b * t
            : a * (Math.Sin((1 - t) * theta) / Math.Sin(theta)) + b * (Math.Sin(t * theta) / Math.Sin(theta));
        return result.MoveToOuterDisposeScope();
    }
}
