using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// Adam as Keras implements it (the reference chapter's optimizer), with its state kept by parameter name so a
/// checkpoint can store and restore it exactly.
/// </summary>
/// <remarks>
/// Keras folds the bias corrections into the step size, alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), and adds
/// epsilon (1e-7, Keras' default; PyTorch's is 1e-8) to sqrt(v) uncorrected:
/// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2; theta -= alpha_t m / (sqrt(v) + epsilon).
/// </remarks>
internal sealed class AdamOptimizer : IDisposable
{
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.999;
    public const double Epsilon = 1e-7;

    private readonly List<(string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq)> _slots = [];

    public AdamOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        LearningRate = learningRate;
        foreach ((string name, Parameter parameter) in parameters)
        {
            _slots.Add((name, parameter, zeros_like(parameter).DetachFromDisposeScope(),
                zeros_like(parameter).DetachFromDisposeScope()));
        }
    }

    public double LearningRate { get; }

    /// <summary>Updates taken so far (t in the formulas).</summary>
    public long Step { get; private set; }

    /// <summary>Applies one update from the gradients currently stored on the parameters.</summary>
    public void ApplyGradients()
    {
        Step++;
        double alpha = LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, Step)) / (1 - Math.Pow(Beta1, Step));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach ((_, Parameter parameter, Tensor expAvg, Tensor expAvgSq) in _slots)
        {
            Tensor? gradient = parameter.grad;
            if (gradient is null) continue;
            expAvg.mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
            expAvgSq.mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
            parameter.addcdiv_(expAvg, expAvgSq.sqrt().add_(Epsilon), value: -alpha);
        }
    }

    /// <summary>The moments by name: <c>exp_avg.NAME</c> and <c>exp_avg_sq.NAME</c> for each parameter.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        foreach ((string name, _, Tensor expAvg, Tensor expAvgSq) in _slots)
        {
            yield return new($"exp_avg.{name}", expAvg);
            yield return new($"exp_avg_sq.{name}", expAvgSq);
        }
    }

    /// <summary>Restores the moments and the step count saved by <see cref="StateTensors"/>.</summary>
    /// <exception cref="InvalidDataException">A moment is missing or has the wrong shape.</exception>
    public void Restore(Func<string, Tensor?> read, long step, string source)
    {
        ArgumentNullException.ThrowIfNull(read);
        using var noGrad = no_grad();
        foreach (KeyValuePair<string, Tensor> pair in StateTensors())
        {
            using Tensor value = read(pair.Key)
                ?? throw new InvalidDataException($"{source}: optimizer state has no {pair.Key}.");
            if (!value.shape.SequenceEqual(pair.Value.shape))
            {
                throw new InvalidDataException(
                    $"{source}: optimizer state {pair.Key} is [{string.Join(", ", value.shape)}], " +
                    $"expected [{string.Join(", ", pair.Value.shape)}].");
            }
            pair.Value.copy_(value);
        }
        Step = step;
    }

    public void Dispose()
    {
        foreach ((_, _, Tensor expAvg, Tensor expAvgSq) in _slots)
        {
            expAvg.Dispose();
            expAvgSq.Dispose();
        }
        _slots.Clear();
    }
}
