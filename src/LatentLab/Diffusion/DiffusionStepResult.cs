namespace LatentLab.Diffusion;

/// <summary>One optimiser update: the two mean absolute errors of its batch and the learning rate it used.</summary>
public sealed record DiffusionStepResult(double NoiseLoss, double ImageLoss, double LearningRate);
