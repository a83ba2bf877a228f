using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// Root-mean-square normalisation over the last dimension with a learned per-channel scale:
/// x / sqrt(mean(x^2) + eps) * weight. SD 3.5 applies it to each head's queries and keys (<c>qk_norm: rms_norm</c>).
/// Checkpoint key: <c>weight</c>.
/// </summary>
/// <remarks>
/// Computed in float32 whatever the weights' dtype (the mean of squares over a head is where 16-bit floats lose
/// precision) and returned in the input's dtype. diffusers multiplies by a 16-bit weight after casting down; the
/// difference is one rounding under bfloat16 and none in float32.
/// </remarks>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _epsilon;

    public RmsNorm(long dim, double epsilon) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(dim));
        _epsilon = epsilon;
        RegisterComponents();
    }

    /// <param name="input">[..., D]</param>
    /// <returns>[..., D] in the input's dtype.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor values = input.to(ScalarType.Float32);
        Tensor meanSquare = values.pow(2).mean([-1], keepdim: true); // [..., 1]
        Tensor normalised = values * (meanSquare + _epsilon).rsqrt() * weight.to(ScalarType.Float32);
        return normalised.to(input.dtype).MoveToOuterDisposeScope();
    }
}
