namespace LatentLab.StableDiffusion.Schedulers;

/// <summary>The timesteps and sigmas of one sampling run with a flow-matching scheduler.</summary>
public sealed class FlowMatchSchedule
{
    internal FlowMatchSchedule(float[] timesteps, float[] sigmas)
    {
        Timesteps = timesteps;
        Sigmas = sigmas;
    }

    /// <summary>Number of denoising steps.</summary>
    public int NumSteps => Timesteps.Count;

    /// <summary>Model timestep of each step, <c>sigma * num_train_timesteps</c> in float32, largest first.</summary>
    public IReadOnlyList<float> Timesteps { get; }

    /// <summary>Noise level of each step plus a final 0, so <c>Sigmas.Count == NumSteps + 1</c>; largest first.</summary>
    public IReadOnlyList<float> Sigmas { get; }
}
