using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// Layer normalisation over the last dimension that always computes in float32 and returns the input's dtype, so
/// a bfloat16 model keeps its statistics exact. Parameters <c>weight</c> and <c>bias</c> as in PyTorch's LayerNorm.
/// </summary>
internal sealed class Float32LayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long[] _shape;
    private readonly double _eps;

    public Float32LayerNorm(long dimension, double eps, LayerFactory factory) : base(nameof(Float32LayerNorm))
    {
        weight = factory.Ones(dimension);
        bias = factory.Zeros(dimension);
        _shape = [dimension];
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32)
        {
            return nn.functional.layer_norm(input, _shape, weight, bias, _eps);
        }
        using var scope = NewDisposeScope();
        Tensor normalised = nn.functional.layer_norm(input.to(ScalarType.Float32), _shape,
            weight.to(ScalarType.Float32), bias.to(ScalarType.Float32), _eps);
        return normalised.to(input.dtype).MoveToOuterDisposeScope();
    }
}
