using System.Text.Json.Serialization;

namespace LatentLab.Vae;

/// <summary>Where a training run stands, saved as <c>trainer_state.json</c> so resuming is exact.</summary>
/// <param name="Options">The options the run was started with.</param>
/// <param name="CompletedEpochs">Epochs fully done.</param>
/// <param name="StepInEpoch">Steps done in the next epoch (non-zero after an interruption).</param>
/// <param name="PartialEpoch">Loss sums of the interrupted epoch's steps so far.</param>
/// <param name="History">One summary per completed epoch.</param>
/// <param name="DataCount">Images in the training data.</param>
/// <param name="DataSha256">SHA-256 of the training data's pixels, so a resume on other data is refused.</param>
internal sealed record VaeTrainerState(
    [property: JsonPropertyName("options")] VaeTrainingOptions Options,
    [property: JsonPropertyName("completed_epochs")] int CompletedEpochs,
    [property: JsonPropertyName("step_in_epoch")] int StepInEpoch,
    [property: JsonPropertyName("partial_epoch")] VaePartialEpoch PartialEpoch,
    [property: JsonPropertyName("history")] IReadOnlyList<VaeEpochSummary> History,
    [property: JsonPropertyName("data_count")] int DataCount,
    [property: JsonPropertyName("data_sha256")] string DataSha256);

/// <summary>Sums over the steps of an epoch in progress (means are sums / steps).</summary>
internal sealed record VaePartialEpoch(
    [property: JsonPropertyName("loss_sum")] double LossSum,
    [property: JsonPropertyName("reconstruction_sum")] double ReconstructionSum,
    [property: JsonPropertyName("kl_sum")] double KlSum,
    [property: JsonPropertyName("images")] long Images,
    [property: JsonPropertyName("seconds")] double Seconds)
{
    public static VaePartialEpoch Empty { get; } = new(0, 0, 0, 0, 0);
}
