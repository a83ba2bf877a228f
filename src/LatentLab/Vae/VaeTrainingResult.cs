namespace LatentLab.Vae;

/// <summary>How a <see cref="VaeTrainer.Train"/> call ended.</summary>
/// <param name="Completed">True when every epoch ran; false when cancellation stopped it (after saving).</param>
/// <param name="CompletedEpochs">Epochs fully done, including those of earlier runs resumed from.</param>
/// <param name="History">One summary per completed epoch, earlier runs included.</param>
public sealed record VaeTrainingResult(bool Completed, int CompletedEpochs, IReadOnlyList<VaeEpochSummary> History);
