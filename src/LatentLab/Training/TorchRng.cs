using TorchSharp;

namespace LatentLab.Training;

/// <summary>
/// The process-global torch CPU generator's state, saved in checkpoints so a resumed run draws the same random
/// numbers (noise, dropout, initialisation) as an uninterrupted one.
/// </summary>
public static class TorchRng
{
    /// <summary>A copy of the generator state (a byte tensor).</summary>
    public static torch.Tensor GetState() => torch.get_rng_state();

    /// <summary>Restores a state returned by <see cref="GetState"/>.</summary>
    public static void SetState(torch.Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        torch.set_rng_state(state);
    }
}
