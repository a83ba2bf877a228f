using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// layer_norm(x) (1 + scale) + shift with scale and shift (in that order) from a linear map of silu(conditioning),
/// no elementwise affine: the transformer's <c>norm_out</c> and the last block's <c>norm1_context</c>.
/// Checkpoint key: <c>linear.*</c>.
/// </summary>
internal sealed class AdaLayerNormContinuous : nn.Module<Tensor, Tensor, Tensor>
{
    private const double Epsilon = 1e-6;
    private readonly Linear linear;

    public AdaLayerNormContinuous(long dim, long conditioningDim) : base(nameof(AdaLayerNormContinuous))
    {
        linear = nn.Linear(conditioningDim, 2 * dim);
        RegisterComponents();
    }

    /// <param name="tokens">[B, L, D]</param>
    /// <param name="conditioning">[B, Dc]</param>
    /// <returns>[B, L, D]</returns>
    public override Tensor forward(Tensor tokens, Tensor conditioning)
    {
        using var scope = NewDisposeScope();
        Tensor parameters = linear.forward(nn.functional.silu(conditioning).to(tokens.dtype)); // [B, 2D]
        Tensor[] chunks = parameters.chunk(2, dim: 1); // scale, shift: 2 x [B, D]
        Tensor normalised = Float32Norms.LayerNorm(tokens, null, null, Epsilon);
        return (normalised * (chunks[0].unsqueeze(1) + 1) + chunks[1].unsqueeze(1)).MoveToOuterDisposeScope();
    }
}
