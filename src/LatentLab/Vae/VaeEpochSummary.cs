using System.Text.Json.Serialization;

namespace LatentLab.Vae;

/// <summary>The losses of one finished epoch (means over its steps, nats per image) and its throughput.</summary>
public sealed record VaeEpochSummary(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("reconstruction_loss")] double ReconstructionLoss,
    [property: JsonPropertyName("kl_loss")] double KlLoss,
    [property: JsonPropertyName("images_per_second")] double ImagesPerSecond);
