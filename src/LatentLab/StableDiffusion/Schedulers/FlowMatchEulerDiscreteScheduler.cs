using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Schedulers;

/// <summary>
/// Euler sampler for rectified-flow models (Esser et al. 2024, "Scaling Rectified Flow Transformers"), as diffusers
/// 0.31's <c>FlowMatchEulerDiscreteScheduler</c>: x_t = (1 - sigma) x_0 + sigma noise, the model predicts the
/// velocity v = noise - x_0, and one step moves x along v from sigma to the next sigma.
/// </summary>
/// <remarks>
/// Stateless: the schedule for a step count is computed on demand, so a caller may run any single step
/// (the pipeline's <c>DenoiseStep</c>) without replaying the ones before it.
/// </remarks>
public sealed class FlowMatchEulerDiscreteScheduler
{
    /// <summary>Creates a scheduler from a validated config.</summary>
    public FlowMatchEulerDiscreteScheduler(FlowMatchEulerDiscreteSchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;

        // The training schedule's end points, computed in float32 as diffusers' constructor does: sigmas i / N for
        // i = N..1, shifted unless shifting is dynamic. Inference sigmas are spaced linearly between these two.
        float sigmaMinUnshifted = 1f / config.NumTrainTimesteps;
        SigmaMax = config.UseDynamicShifting ? 1f : ShiftFloat32(1f);
        SigmaMin = config.UseDynamicShifting ? sigmaMinUnshifted : ShiftFloat32(sigmaMinUnshifted);
    }

    /// <summary>The settings this scheduler was built from.</summary>
    public FlowMatchEulerDiscreteSchedulerConfig Config { get; }

    /// <summary>Largest training sigma (after the static shift), float32.</summary>
    public float SigmaMax { get; }

    /// <summary>Smallest training sigma (after the static shift), float32.</summary>
    public float SigmaMin { get; }

    /// <summary>Initial latents are plain unit normals for flow matching.</summary>
    public static float InitNoiseSigma => 1f;

    /// <summary>Loads <c>scheduler_config.json</c> from a diffusers <c>scheduler/</c> folder.</summary>
    public static FlowMatchEulerDiscreteScheduler FromFolder(string folder) =>
        new(FlowMatchEulerDiscreteSchedulerConfig.Load(Path.Combine(folder, "scheduler_config.json")));

    /// <summary>
    /// The resolution-dependent shift mu for dynamic shifting: linear in the image sequence length between
    /// (base_image_seq_len, base_shift) and (max_image_seq_len, max_shift).
    /// </summary>
    public double CalculateShift(int imageSequenceLength)
    {
        double slope = (Config.MaxShift - Config.BaseShift) / (Config.MaxImageSeqLen - Config.BaseImageSeqLen);
        double intercept = Config.BaseShift - slope * Config.BaseImageSeqLen;
        return imageSequenceLength * slope + intercept;
    }

    /// <summary>
    /// Timesteps and sigmas for <paramref name="numSteps"/> steps, exactly as diffusers 0.31's <c>set_timesteps</c>:
    /// model timesteps spaced linearly (in float64) from <see cref="SigmaMax"/> to <see cref="SigmaMin"/> times N,
    /// divided by N and shifted again, then rounded to float32. The smallest sigma is thus shifted twice: two steps
    /// give timesteps [1000, 8.93] with shift 3.
    /// </summary>
    /// <param name="numSteps">Number of denoising steps, at least 1.</param>
    /// <param name="mu">The dynamic shift (see <see cref="CalculateShift"/>); required with dynamic shifting, else ignored.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numSteps"/> is below 1.</exception>
    /// <exception cref="ArgumentException">Dynamic shifting is on and <paramref name="mu"/> is missing.</exception>
    public FlowMatchSchedule Schedule(int numSteps, double? mu = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numSteps, 1);
        if (Config.UseDynamicShifting && mu is null)
            throw new ArgumentException("this scheduler uses dynamic shifting; pass mu (see CalculateShift)", nameof(mu));

        int trainSteps = Config.NumTrainTimesteps;
        double start = (double)SigmaMax * trainSteps;
        double stop = (double)SigmaMin * trainSteps;
        double spacing = numSteps > 1 ? (stop - start) / (numSteps - 1) : 0;
        float[] timesteps = new float[numSteps];
        float[] sigmas = new float[numSteps + 1];
        for (int i = 0; i < numSteps; i++)
        {
            // numpy's linspace: start + i * step, with the last point set to stop exactly.
            double timestep = numSteps > 1 && i == numSteps - 1 ? stop : start + i * spacing;
            double sigma = timestep / trainSteps;
            double shifted = Config.UseDynamicShifting
                ? Math.Exp(mu!.Value) / (Math.Exp(mu.Value) + (1 / sigma - 1))
                : Config.Shift * sigma / (1 + (Config.Shift - 1) * sigma);
            sigmas[i] = (float)shifted;
            timesteps[i] = sigmas[i] * trainSteps;
        }
        sigmas[numSteps] = 0f;
        return new FlowMatchSchedule(timesteps, sigmas);
    }

    /// <summary>
    /// One Euler step of the flow ODE from <paramref name="sigma"/> to <paramref name="sigmaNext"/>.
    /// </summary>
    /// <param name="modelOutput">Predicted velocity v, same shape as <paramref name="sample"/>.</param>
    /// <param name="sample">Current latents x_sigma.</param>
    /// <param name="sigma">Current noise level.</param>
    /// <param name="sigmaNext">Next noise level (0 after the last step).</param>
    /// <returns>x at <paramref name="sigmaNext"/>, computed in float32 and returned in the model output's dtype.</returns>
    public static Tensor Step(Tensor modelOutput, Tensor sample, float sigma, float sigmaNext)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        // x_{next} = x + (sigma_next - sigma) v; the difference is formed in float32 as the reference does.
        float deltaSigma = sigmaNext - sigma;
        using Tensor sample32 = sample.to(float32);
        using Tensor velocity32 = modelOutput.to(float32);
        using Tensor next32 = sample32 + velocity32 * deltaSigma;
        return next32.to(modelOutput.dtype);
    }

    /// <summary>Step <paramref name="stepIndex"/> of <paramref name="schedule"/>; see the other overload.</summary>
    public static Tensor Step(Tensor modelOutput, Tensor sample, FlowMatchSchedule schedule, int stepIndex)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(stepIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stepIndex, schedule.NumSteps);
        return Step(modelOutput, sample, schedule.Sigmas[stepIndex], schedule.Sigmas[stepIndex + 1]);
    }

    /// <summary>The static shift in float32 arithmetic, as the reference's constructor computes it on tensors.</summary>
    private float ShiftFloat32(float sigma)
    {
        float shift = (float)Config.Shift;
        return shift * sigma / (1f + (shift - 1f) * sigma);
    }
}
