using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// AdamW written out as Keras 3 applies it, so every step can be checked by hand. For update t = iterations + 1:
/// <code>
/// w ← w − lr·λ·w                              (decoupled weight decay, before the Adam step)
/// m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2)
/// α = lr·sqrt(1 − β2^t) / (1 − β1^t);  w ← w − α·m / (sqrt(v) + ε)
/// </code>
/// Keras adds ε to the uncorrected sqrt(v); torch.optim.AdamW adds it after bias correction, which differs while
/// v is tiny. Gradients of parameters with none are skipped (their moments stay as they are).
/// </summary>
public sealed class KerasAdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _beta1, _beta2, _epsilon, _weightDecay;

    /// <summary>Creates zeroed moments for each parameter.</summary>
    public KerasAdamW(IEnumerable<Parameter> parameters, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-7, double weightDecay = 0.004)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        _firstMoments = _parameters.Select(parameter => zeros_like(parameter).requires_grad_(false)).ToArray();
        _secondMoments = _parameters.Select(parameter => zeros_like(parameter).requires_grad_(false)).ToArray();
        (_beta1, _beta2, _epsilon, _weightDecay) = (beta1, beta2, epsilon, weightDecay);
    }

    /// <summary>Updates already applied (Keras's <c>iterations</c>).</summary>
    public long Iterations { get; set; }

    /// <summary>The first moments, one per parameter, in parameter order (for checkpoints).</summary>
    public IReadOnlyList<Tensor> FirstMoments => _firstMoments;

    /// <summary>The second moments, one per parameter, in parameter order (for checkpoints).</summary>
    public IReadOnlyList<Tensor> SecondMoments => _secondMoments;

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> and counts it.</summary>
    public void Step(double learningRate)
    {
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        long t = Iterations + 1;
        double alpha = learningRate * Math.Sqrt(1 - Math.Pow(_beta2, t)) / (1 - Math.Pow(_beta1, t));
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter weight = _parameters[i];
            Tensor? gradient = weight.grad;
            if (gradient is null) continue;
            if (_weightDecay != 0) weight.mul_(1 - learningRate * _weightDecay);
            _firstMoments[i].lerp_(gradient, 1 - _beta1);
            _secondMoments[i].mul_(_beta2).addcmul_(gradient, gradient, 1 - _beta2);
            weight.addcdiv_(_firstMoments[i], _secondMoments[i].sqrt().add_(_epsilon), -alpha);
        }
        Iterations++;
    }

    /// <summary>Clears the gradients of all parameters.</summary>
    public void ZeroGrad()
    {
        foreach (Parameter parameter in _parameters) parameter.grad?.zero_();
    }

    public void Dispose()
    {
        foreach (Tensor moment in _firstMoments.Concat(_secondMoments)) moment.Dispose();
    }
}
