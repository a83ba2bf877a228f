using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// T5's layer norm: root-mean-square scaling only (no mean subtraction, no bias), computed in float32, then scaled
/// by <c>weight</c>. Half-precision weights get the normalised states cast to their dtype first, as in transformers.
/// </summary>
internal sealed class T5LayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public T5LayerNorm(long dimension, double eps, LayerFactory factory) : base(nameof(T5LayerNorm))
    {
        weight = factory.Ones(dimension);
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor states = input.to(ScalarType.Float32);
        Tensor variance = states.pow(2).mean([-1], keepdim: true);
        Tensor normalised = states * (variance + _eps).rsqrt();
        if (weight.dtype != ScalarType.Float32) normalised = normalised.to(weight.dtype);
        return (weight * normalised).MoveToOuterDisposeScope();
    }
}
