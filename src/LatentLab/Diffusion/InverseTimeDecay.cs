namespace LatentLab.Diffusion;

/// <summary>
/// Keras's <c>InverseTimeDecay</c> (not staircase): lr(step) = initial / (1 + rate * step / decaySteps), where
/// step counts optimiser updates already made (0 for the first update).
/// </summary>
public sealed record InverseTimeDecay(double InitialLearningRate, int DecaySteps, double DecayRate)
{
    /// <summary>The learning rate for the update made after <paramref name="step"/> earlier updates.</summary>
    public double At(long step) => InitialLearningRate / (1 + DecayRate * step / DecaySteps);
}
