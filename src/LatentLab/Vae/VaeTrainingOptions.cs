using System.Text.Json.Serialization;

namespace LatentLab.Vae;

/// <summary>How a <see cref="VaeTrainer"/> trains: the chapter's Adam, batch size and epochs by default.</summary>
/// <param name="Epochs">Epochs to train in all (a resumed run continues up to this number); default 30.</param>
/// <param name="BatchSize">Images per step; default 128. The last batch of an epoch may be smaller.</param>
/// <param name="LearningRate">Adam's learning rate; default 1e-3.</param>
/// <param name="Seed">Seeds the weights, the shuffling and the sampler's noise; same seed, data and thread count
/// give the same losses.</param>
public sealed record VaeTrainingOptions(
    [property: JsonPropertyName("epochs")] int Epochs = 30,
    [property: JsonPropertyName("batch_size")] int BatchSize = 128,
    [property: JsonPropertyName("learning_rate")] double LearningRate = 1e-3,
    [property: JsonPropertyName("seed")] int Seed = 0)
{
    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the option and its valid range.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}.");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {BatchSize}.");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
        {
            throw new ArgumentException($"learning rate must be a positive number, got {LearningRate}.");
        }
    }
}
