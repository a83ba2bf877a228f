namespace LatentLab.Diffusion;

/// <summary>How a training run goes (the model itself is described by <see cref="DiffusionConfig"/>).</summary>
public sealed record DiffusionTrainingOptions
{
    /// <summary>Total epochs (a resumed run continues to this number). Default 100, the chapter's.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Seed for the weights, data order, training noise and the per-epoch sample grid. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Diffusion steps for the per-epoch sample grid. Default 20, the chapter's.</summary>
    public int SampleSteps { get; init; } = 20;

    /// <summary>Rows of the per-epoch sample grid; 0 writes none. Default 3.</summary>
    public int SampleRows { get; init; } = 3;

    /// <summary>Columns of the per-epoch sample grid. Default 6.</summary>
    public int SampleColumns { get; init; } = 6;

    /// <summary>Stop after this many steps in total (for tests and benchmarks); null runs every epoch in full.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Checks every value and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs: expected at least 1, got {Epochs}.");
        if (SampleSteps < 1) throw new ArgumentException($"sample steps: expected at least 1, got {SampleSteps}.");
        if (SampleRows < 0 || SampleColumns < 1)
            throw new ArgumentException($"sample grid: expected rows >= 0 and columns >= 1, got {SampleRows}x{SampleColumns}.");
        if (MaxSteps is < 1) throw new ArgumentException($"max steps: expected at least 1, got {MaxSteps}.");
    }
}
