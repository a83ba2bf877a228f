using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// The chapter's offset cosine schedule: the diffusion angle moves linearly from acos(max signal rate) at time 0
/// to acos(min signal rate) at time 1, and signal rate = cos(angle), noise rate = sin(angle), so
/// signal² + noise² = 1 at every time (the noisy image keeps unit variance when the image has it).
/// </summary>
public sealed class DiffusionSchedule
{
    /// <summary>Creates the schedule; 0 &lt; <paramref name="minSignalRate"/> &lt; <paramref name="maxSignalRate"/> &lt; 1.</summary>
    public DiffusionSchedule(double minSignalRate = 0.02, double maxSignalRate = 0.95)
    {
        if (!(minSignalRate > 0 && minSignalRate < maxSignalRate && maxSignalRate < 1))
            throw new ArgumentException($"signal rates: expected 0 < min < max < 1, got {minSignalRate}, {maxSignalRate}.");
        StartAngle = Math.Acos(maxSignalRate);
        EndAngle = Math.Acos(minSignalRate);
    }

    /// <summary>Angle at diffusion time 0, acos(max signal rate), in radians.</summary>
    public double StartAngle { get; }

    /// <summary>Angle at diffusion time 1, acos(min signal rate), in radians.</summary>
    public double EndAngle { get; }

    /// <summary>Noise and signal rates at one diffusion time (t in [0, 1]).</summary>
    public (double NoiseRate, double SignalRate) Rates(double diffusionTime)
    {
        double angle = StartAngle + diffusionTime * (EndAngle - StartAngle);
        return (Math.Sin(angle), Math.Cos(angle));
    }

    /// <summary>Noise and signal rates for a tensor of diffusion times (any shape, same shape out).</summary>
    public (Tensor NoiseRates, Tensor SignalRates) Rates(Tensor diffusionTimes)
    {
        ArgumentNullException.ThrowIfNull(diffusionTimes);
        using Tensor angles = diffusionTimes * (EndAngle - StartAngle) + StartAngle;
        return (angles.sin(), angles.cos());
    }
}
