using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Keras's optimiser weight average (<c>use_ema</c>): after each update made at iteration i (0-based),
/// <code>
/// momentum = (i == 0 ? 0 : μ);  average ← momentum·average + (1 − momentum)·w
/// if overwrite frequency f &gt; 0 and (i + 1) mod f == 0:  w ← average
/// </code>
/// and at the end of training the average replaces the weights (<c>finalize_variable_values</c>).
/// </summary>
public sealed class WeightAverage : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _averages;
    private readonly double _momentum;
    private readonly int _overwriteFrequency;

    /// <summary>Starts the averages as copies of the current weights.</summary>
    public WeightAverage(IEnumerable<Parameter> parameters, double momentum = 0.99, int overwriteFrequency = 100)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        _averages = _parameters.Select(parameter => parameter.detach().clone()).ToArray();
        (_momentum, _overwriteFrequency) = (momentum, overwriteFrequency);
    }

    /// <summary>The averages, one per parameter, in parameter order.</summary>
    public IReadOnlyList<Tensor> Averages => _averages;

    /// <summary>Folds the just-updated weights into the average; <paramref name="iteration"/> is the update's 0-based index.</summary>
    /// <returns>True when the live weights were overwritten by the average.</returns>
    public bool Update(long iteration)
    {
        using var guard = no_grad();
        double momentum = iteration == 0 ? 0 : _momentum;
        for (int i = 0; i < _parameters.Length; i++) _averages[i].mul_(momentum).add_(_parameters[i], 1 - momentum);
        if (_overwriteFrequency > 0 && (iteration + 1) % _overwriteFrequency == 0)
        {
            CopyIntoWeights();
            return true;
        }
        return false;
    }

    /// <summary>Replaces the live weights by the average (also what the end of training does).</summary>
    public void CopyIntoWeights()
    {
        using var guard = no_grad();
        for (int i = 0; i < _parameters.Length; i++) _parameters[i].copy_(_averages[i]);
    }

    public void Dispose()
    {
        foreach (Tensor average in _averages) average.Dispose();
    }
}
