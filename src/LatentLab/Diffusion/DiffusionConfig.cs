using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentLab.Diffusion;

/// <summary>
/// Everything that defines a diffusion model and how it is trained, saved as <c>config.json</c> beside its weights.
/// Defaults are the chapter's (Generative Deep Learning, 2nd ed., chapter 8) unless a comment says otherwise.
/// </summary>
public sealed record DiffusionConfig
{
    /// <summary>Side of the square images in pixels; must be divisible by 2^(number of widths - 1). Default 128.</summary>
    public int ImageSize { get; init; } = 128;

    /// <summary>
    /// Image channels: 3 for colour; 1 for the MNIST family, which we keep grayscale (a third of the input and output
    /// work, and nothing is lost: the samples would be gray anyway). Default 3.
    /// </summary>
    public int Channels { get; init; } = 3;

    /// <summary>U-Net widths per resolution, highest resolution first. Default 32, 64, 96, 128.</summary>
    public IReadOnlyList<int> Widths { get; init; } = [32, 64, 96, 128];

    /// <summary>Residual blocks per stage. Default 2.</summary>
    public int BlockDepth { get; init; } = 2;

    /// <summary>Signal rate at diffusion time 1 (almost pure noise). Default 0.02.</summary>
    public double MinSignalRate { get; init; } = 0.02;

    /// <summary>Signal rate at diffusion time 0 (almost clean image). Default 0.95.</summary>
    public double MaxSignalRate { get; init; } = 0.95;

    /// <summary>Keras BatchNormalization epsilon. Default 1e-3.</summary>
    public double BatchNormEpsilon { get; init; } = 1e-3;

    /// <summary>Keras BatchNormalization moving-average momentum (torch's momentum is 1 minus this). Default 0.99.</summary>
    public double BatchNormMomentum { get; init; } = 0.99;

    /// <summary>Initial learning rate of the inverse-time decay. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Inverse-time decay: lr = LearningRate / (1 + DecayRate * step / DecaySteps). Default 1000.</summary>
    public int DecaySteps { get; init; } = 1000;

    /// <summary>Inverse-time decay rate. Default 0.1.</summary>
    public double DecayRate { get; init; } = 0.1;

    /// <summary>AdamW decoupled weight decay (Keras's default; the chapter sets none). Default 0.004.</summary>
    public double WeightDecay { get; init; } = 0.004;

    /// <summary>Adam first-moment decay. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam second-moment decay. Default 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam epsilon, added to sqrt(v) as Keras does (not to the bias-corrected root). Default 1e-7.</summary>
    public double AdamEpsilon { get; init; } = 1e-7;

    /// <summary>Keep an exponential moving average of the weights (Keras <c>use_ema</c>). Default true.</summary>
    public bool UseEma { get; init; } = true;

    /// <summary>Momentum of the weight average. Default 0.99.</summary>
    public double EmaMomentum { get; init; } = 0.99;

    /// <summary>Overwrite the live weights with the average every this many steps; 0 never. Default 100.</summary>
    public int EmaOverwriteFrequency { get; init; } = 100;

    /// <summary>Images per training batch. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Checks every value and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Widths is null || Widths.Count < 1 || Widths.Any(width => width < 1))
            throw new ArgumentException("widths: expected one or more positive integers, e.g. 32,64,96,128.");
        if (BlockDepth < 1) throw new ArgumentException($"block depth: expected at least 1, got {BlockDepth}.");
        if (Channels is not (1 or 3)) throw new ArgumentException($"channels: expected 1 or 3, got {Channels}.");
        int factor = 1 << (Widths.Count - 1);
        if (ImageSize < factor || ImageSize % factor != 0)
        {
            throw new ArgumentException(
                $"image size: expected a positive multiple of {factor} (2^(number of widths - 1)), got {ImageSize}.");
        }
        if (!(MinSignalRate > 0 && MinSignalRate < MaxSignalRate && MaxSignalRate < 1))
        {
            throw new ArgumentException(
                $"signal rates: expected 0 < min < max < 1, got min {MinSignalRate} and max {MaxSignalRate}.");
        }
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate: expected > 0, got {LearningRate}.");
        if (DecaySteps < 1) throw new ArgumentException($"decay steps: expected at least 1, got {DecaySteps}.");
        if (!(DecayRate >= 0)) throw new ArgumentException($"decay rate: expected >= 0, got {DecayRate}.");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"weight decay: expected >= 0, got {WeightDecay}.");
        if (!(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1))
            throw new ArgumentException($"adam betas: expected in [0, 1), got {Beta1} and {Beta2}.");
        if (!(AdamEpsilon > 0)) throw new ArgumentException($"adam epsilon: expected > 0, got {AdamEpsilon}.");
        if (!(EmaMomentum >= 0 && EmaMomentum < 1))
            throw new ArgumentException($"ema momentum: expected in [0, 1), got {EmaMomentum}.");
        if (EmaOverwriteFrequency < 0)
            throw new ArgumentException($"ema overwrite frequency: expected >= 0, got {EmaOverwriteFrequency}.");
        if (BatchSize < 1) throw new ArgumentException($"batch size: expected at least 1, got {BatchSize}.");
        if (!(BatchNormEpsilon > 0 && BatchNormMomentum >= 0 && BatchNormMomentum < 1))
            throw new ArgumentException("batch norm: expected epsilon > 0 and momentum in [0, 1).");
    }

    /// <summary>The config as indented snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a config written by <see cref="ToJson"/>; unknown keys are an error.</summary>
    /// <exception cref="InvalidDataException">Not a diffusion config; the message names <paramref name="source"/>.</exception>
    public static DiffusionConfig FromJson(string json, string source)
    {
        try
        {
            DiffusionConfig config = JsonSerializer.Deserialize<DiffusionConfig>(json, JsonOptions)
                ?? throw new InvalidDataException($"{source}: empty diffusion config.");
            config.Validate();
            return config;
        }
        catch (Exception error) when (error is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: not a valid diffusion config ({error.Message})", error);
        }
    }
}
