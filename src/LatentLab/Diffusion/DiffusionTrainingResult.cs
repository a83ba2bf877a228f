namespace LatentLab.Diffusion;

/// <summary>How a call to <see cref="DiffusionTrainer.Run"/> ended, and the run's state as saved.</summary>
public sealed record DiffusionTrainingResult(bool Completed, bool Cancelled, DiffusionTrainingState State);
