using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>The activation functions text encoder configs name, by their transformers names.</summary>
public static class Activations
{
    /// <summary>Names accepted by <see cref="Resolve"/>.</summary>
    public static readonly IReadOnlyList<string> Supported =
        ["quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"];

    /// <summary>Returns the function named <paramref name="name"/>.</summary>
    /// <param name="name">A transformers activation name (see <see cref="Supported"/>).</param>
    /// <param name="source">Where the name came from, for the error message.</param>
    /// <exception cref="NotSupportedException">The name is not one of <see cref="Supported"/>.</exception>
    public static Func<Tensor, Tensor> Resolve(string name, string source) => name switch
    {
        // CLIP's original approximation: x * sigmoid(1.702 x).
        "quick_gelu" => x => x * (x * 1.702).sigmoid(),
        "gelu" => x => nn.functional.gelu(x),
        // The tanh approximation, written out as transformers' NewGELUActivation computes it.
        "gelu_new" or "gelu_pytorch_tanh" => TanhGelu,
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new NotSupportedException(
            $"{source} '{name}' is not supported; supported: {string.Join(", ", Supported)}."),
    };

    private static Tensor TanhGelu(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor inner = (x + x.pow(3) * 0.044715) * Math.Sqrt(2.0 / Math.PI);
        return (x * 0.5 * (inner.tanh() + 1.0)).MoveToOuterDisposeScope();
    }
}
