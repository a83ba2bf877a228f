using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>The six modulation vectors an <see cref="AdaLayerNormZero"/> gives a block, each [B, D].</summary>
internal readonly record struct Modulation(Tensor GateMsa, Tensor ShiftMlp, Tensor ScaleMlp, Tensor GateMlp);

/// <summary>
/// DiT's adaLN-Zero: a linear map of silu(conditioning) gives shift, scale and gate for attention and for the MLP;
/// the attention input is layer_norm(x) (1 + scale) + shift. Checkpoint key: <c>linear.*</c>.
/// </summary>
internal sealed class AdaLayerNormZero : nn.Module
{
    private const double Epsilon = 1e-6;
    private readonly Linear linear;

    public AdaLayerNormZero(long dim) : base(nameof(AdaLayerNormZero))
    {
        linear = nn.Linear(dim, 6 * dim);
        RegisterComponents();
    }

    /// <param name="tokens">[B, L, D]</param>
    /// <param name="conditioning">[B, D]</param>
    /// <returns>The modulated, normalised tokens [B, L, D] and the remaining modulation vectors.</returns>
    public (Tensor Normed, Modulation Modulation) forward(Tensor tokens, Tensor conditioning)
    {
        using Tensor activated = nn.functional.silu(conditioning);
        using Tensor parameters = linear.forward(activated); // [B, 6D]
        Tensor[] chunks = parameters.chunk(6, dim: 1); // 6 x [B, D]
        (Tensor shiftMsa, Tensor scaleMsa) = (chunks[0], chunks[1]);
        using Tensor normalised = Float32Norms.LayerNorm(tokens, null, null, Epsilon);
        using Tensor scaled = normalised * (scaleMsa.unsqueeze(1) + 1);
        Tensor normed = scaled + shiftMsa.unsqueeze(1);
        shiftMsa.Dispose();
        scaleMsa.Dispose();
        return (normed, new Modulation(chunks[2], chunks[3], chunks[4], chunks[5]));
    }
}
