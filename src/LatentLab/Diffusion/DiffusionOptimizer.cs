using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// One training update as the chapter's Keras model makes it: loss on a batch, AdamW (Keras form) at the
/// inverse-time-decayed learning rate, then the weight average and its periodic overwrite. The noise and diffusion
/// times come from this object's own generator, so its state (saved in checkpoints) makes a resumed run exact.
/// </summary>
public sealed class DiffusionOptimizer : IDisposable
{
    private readonly DiffusionModel _model;

    /// <summary>Creates the optimiser state for <paramref name="model"/>, drawing noise from a generator seeded with <paramref name="seed"/>.</summary>
    public DiffusionOptimizer(DiffusionModel model, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Parameters = model.Network.parameters().ToArray();
        DiffusionConfig config = model.Config;
        LearningRates = new InverseTimeDecay(config.LearningRate, config.DecaySteps, config.DecayRate);
        AdamW = new KerasAdamW(Parameters, config.Beta1, config.Beta2, config.AdamEpsilon,
            config.WeightDecay);
        Average = config.UseEma
            ? new WeightAverage(Parameters, config.EmaMomentum, config.EmaOverwriteFrequency)
            : null;
        Generator = new Generator((ulong)seed);
    }

    /// <summary>The trained parameters, in the order of the moments and averages.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    /// <summary>The learning-rate schedule.</summary>
    public InverseTimeDecay LearningRates { get; }

    /// <summary>AdamW and its moments.</summary>
    public KerasAdamW AdamW { get; }

    /// <summary>The weight average, or null when the config turns it off.</summary>
    public WeightAverage? Average { get; }

    /// <summary>The generator of training noise and diffusion times.</summary>
    public Generator Generator { get; }

    /// <summary>Updates applied so far.</summary>
    public long Iterations => AdamW.Iterations;

    /// <summary>One update on <paramref name="images"/> [B, C, H, W] in [0, 1] (on the model's device).</summary>
    public DiffusionStepResult Step(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        _model.train();

        // 1. Loss.
        AdamW.ZeroGrad();
        (Tensor noiseLoss, Tensor imageLoss) = _model.Losses(images, Generator);

        // 2. Gradients and the AdamW update at this iteration's learning rate.
        noiseLoss.backward();
        long iteration = AdamW.Iterations;
        double learningRate = LearningRates.At(iteration);
        AdamW.Step(learningRate);

        // 3. Weight average (and, every so often, the live weights replaced by it).
        Average?.Update(iteration);

        // .item() waits for the device; once per step is cheap next to the step itself.
        return new DiffusionStepResult(noiseLoss.item<float>(), imageLoss.item<float>(), learningRate);
    }

    /// <summary>End of training: the weights become the average (Keras's finalize_variable_values).</summary>
    public void Finish() => Average?.CopyIntoWeights();

    public void Dispose()
    {
        AdamW.Dispose();
        Average?.Dispose();
        Generator.Dispose();
    }
}
