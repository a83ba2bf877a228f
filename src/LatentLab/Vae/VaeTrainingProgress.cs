namespace LatentLab.Vae;

/// <summary>
/// Progress of a <see cref="VaeTrainer"/> run, reported after every step and once more at the end of each epoch
/// (<see cref="EpochCompleted"/>). Losses are means over the epoch's steps so far, in nats per image.
/// </summary>
/// <param name="Epoch">The current epoch, 1-based.</param>
/// <param name="Epochs">Epochs in the whole run.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps in one epoch.</param>
/// <param name="Loss">Total loss (reconstruction + KL).</param>
/// <param name="ReconstructionLoss">Binary cross-entropy summed over pixels.</param>
/// <param name="KlLoss">The KL term, reduced as configured.</param>
/// <param name="ImagesPerSecond">Training throughput in this epoch.</param>
/// <param name="Elapsed">Time spent in this epoch.</param>
/// <param name="EpochCompleted">True for the report that closes an epoch (after its checkpoint is written).</param>
public sealed record VaeTrainingProgress(
    int Epoch,
    int Epochs,
    int Step,
    int StepsPerEpoch,
    double Loss,
    double ReconstructionLoss,
    double KlLoss,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    bool EpochCompleted);
