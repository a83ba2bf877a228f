using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// The modulation vectors an <see cref="AdaLayerNormZero"/> gives a block besides its normed input, each [B, D].
/// <see cref="Normed2"/> and <see cref="GateMsa2"/> are set only by the nine-way MMDiT-X norm: the input of the
/// second, image-only attention and its gate.
/// </summary>
internal readonly record struct Modulation(Tensor GateMsa, Tensor ShiftMlp, Tensor ScaleMlp, Tensor GateMlp,
    Tensor? Normed2 = null, Tensor? GateMsa2 = null);

/// <summary>
/// DiT's adaLN-Zero: a linear map of silu(conditioning) gives shift, scale and gate for attention and for the MLP;
/// the attention input is layer_norm(x) (1 + scale) + shift. With <c>dual</c> (SD 3.5's MMDiT-X blocks, diffusers'
/// <c>SD35AdaLayerNormZeroX</c>) the map gives nine chunks, the last three a shift, scale and gate for the second
/// attention, whose input is the same layer norm modulated by them. Chunk order:
/// shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp[, shift_msa2, scale_msa2, gate_msa2].
/// Checkpoint key: <c>linear.*</c>.
/// </summary>
internal sealed class AdaLayerNormZero : nn.Module
{
    private const double Epsilon = 1e-6;
    private readonly Linear linear;
    private readonly int _chunks;

    public AdaLayerNormZero(long dim, bool dual = false) : base(nameof(AdaLayerNormZero))
    {
        _chunks = dual ? 9 : 6;
        linear = nn.Linear(dim, _chunks * dim);
        RegisterComponents();
    }

    /// <param name="tokens">[B, L, D]</param>
    /// <param name="conditioning">[B, D]</param>
    /// <returns>The modulated, normalised tokens [B, L, D] and the remaining modulation vectors.</returns>
    public (Tensor Normed, Modulation Modulation) forward(Tensor tokens, Tensor conditioning)
    {
        using var scope = NewDisposeScope();
        Tensor parameters = linear.forward(nn.functional.silu(conditioning)); // [B, 6D or 9D]
        Tensor[] chunks = parameters.chunk(_chunks, dim: 1); // 6 or 9 x [B, D]
        Tensor normalised = Float32Norms.LayerNorm(tokens, null, null, Epsilon);
        Tensor normed = Modulate(normalised, chunks[0], chunks[1]);
        Tensor? normed2 = _chunks == 9 ? Modulate(normalised, chunks[6], chunks[7]).MoveToOuterDisposeScope() : null;
        Tensor? gate2 = _chunks == 9 ? chunks[8].MoveToOuterDisposeScope() : null;
        var modulation = new Modulation(chunks[2].MoveToOuterDisposeScope(), chunks[3].MoveToOuterDisposeScope(),
            chunks[4].MoveToOuterDisposeScope(), chunks[5].MoveToOuterDisposeScope(), normed2, gate2);
        return (normed.MoveToOuterDisposeScope(), modulation);
    }

    /// <summary>x (1 + scale) + shift, the vectors broadcast over the tokens.</summary>
    private static Tensor Modulate(Tensor normalised, Tensor shift, Tensor scale) =>
        normalised * (scale.unsqueeze(1) + 1) + shift.unsqueeze(1);
}
