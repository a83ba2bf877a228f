namespace LatentLab.Diffusion;

/// <summary>
/// Reported after every training step: where the run is (1-based epoch, steps done in this epoch), the running mean
/// losses of the epoch, the step's learning rate and the images per second since the epoch (or resume) began.
/// </summary>
public sealed record DiffusionTrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double NoiseLoss,
    double ImageLoss, double LearningRate, double ImagesPerSecond);
