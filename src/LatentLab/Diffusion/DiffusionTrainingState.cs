namespace LatentLab.Diffusion;

/// <summary>
/// Where a run stands, saved as <c>state.json</c> in its checkpoint: epochs fully done, steps done in the next one
/// (non-zero only after an interruption) with their loss sums, and the finished epochs' records.
/// </summary>
public sealed record DiffusionTrainingState
{
    /// <summary>Seed of the run (weights, data order, training noise, sample grids).</summary>
    public long Seed { get; init; }

    /// <summary>Epochs completed.</summary>
    public int EpochsDone { get; init; }

    /// <summary>Steps completed in the epoch after <see cref="EpochsDone"/>.</summary>
    public int StepsDoneInEpoch { get; init; }

    /// <summary>Sum of the noise losses of those steps.</summary>
    public double NoiseLossSum { get; init; }

    /// <summary>Sum of the image losses of those steps.</summary>
    public double ImageLossSum { get; init; }

    /// <summary>Optimiser updates applied in total.</summary>
    public long Iterations { get; init; }

    /// <summary>Whether the weight average has replaced the weights for good (the run finished).</summary>
    public bool Finished { get; init; }

    /// <summary>One record per finished epoch.</summary>
    public IReadOnlyList<DiffusionEpochRecord> History { get; init; } = [];
}
