namespace LatentLab.Diffusion;

/// <summary>One finished epoch: mean losses over its steps, the last learning rate and the wall time it took.</summary>
public sealed record DiffusionEpochRecord(int Epoch, double NoiseLoss, double ImageLoss, double LearningRate,
    double Seconds);
