using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// MMDiT joint attention: image tokens and text tokens have their own query/key/value projections, then attend
/// together over the concatenated sequence [image, text]; the result is split back and projected per stream.
/// The last block is context-pre-only: its text output is not used, so it has no <c>to_add_out</c>.
/// Checkpoint keys: <c>to_q/k/v</c>, <c>to_out.0</c>, <c>add_q/k/v_proj</c>, <c>to_add_out</c>.
/// </summary>
/// <remarks>
/// TODO(#5): SD 3.5's qk_norm adds <c>norm_q</c>, <c>norm_k</c>, <c>norm_added_q</c>, <c>norm_added_k</c>
/// (RMS norms over the head dim, applied after the head split) - not needed for SD3 Medium.
/// </remarks>
internal sealed class JointAttention : nn.Module
{
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;
    private readonly Linear add_q_proj;
    private readonly Linear add_k_proj;
    private readonly Linear add_v_proj;
    private readonly Linear? to_add_out;
    private readonly int _heads;
    private readonly int _headDim;

    public JointAttention(int dim, int heads, int headDim, bool contextPreOnly) : base(nameof(JointAttention))
    {
        _heads = heads;
        _headDim = headDim;
        int inner = heads * headDim;
        to_q = nn.Linear(dim, inner);
        to_k = nn.Linear(dim, inner);
        to_v = nn.Linear(dim, inner);
        to_out = nn.ModuleList(nn.Linear(inner, dim));
        add_q_proj = nn.Linear(dim, inner);
        add_k_proj = nn.Linear(dim, inner);
        add_v_proj = nn.Linear(dim, inner);
        to_add_out = contextPreOnly ? null : nn.Linear(inner, dim);
        RegisterComponents();
    }

    /// <param name="image">Normalised image tokens [B, N, D].</param>
    /// <param name="context">Normalised text tokens [B, L, D].</param>
    /// <returns>Attention outputs for the image [B, N, D] and the text [B, L, D] (the latter not projected when
    /// the block is context-pre-only).</returns>
    public (Tensor Image, Tensor Context) forward(Tensor image, Tensor context)
    {
        using var scope = NewDisposeScope();
        long imageTokens = image.shape[1];
        Tensor query = cat([SplitHeads(to_q.forward(image)), SplitHeads(add_q_proj.forward(context))], dim: 2);
        Tensor key = cat([SplitHeads(to_k.forward(image)), SplitHeads(add_k_proj.forward(context))], dim: 2);
        Tensor value = cat([SplitHeads(to_v.forward(image)), SplitHeads(add_v_proj.forward(context))], dim: 2);
        // [B, heads, N+L, Dh] each. libtorch's CPU kernel accumulates the softmax in float32 under bfloat16.
        Tensor attended = nn.functional.scaled_dot_product_attention(query, key, value); // [B, heads, N+L, Dh]
        Tensor merged = attended.transpose(1, 2).reshape(attended.shape[0], -1, _heads * _headDim); // [B, N+L, D]
        Tensor imageOut = to_out[0].forward(merged[.., ..(int)imageTokens]); // [B, N, D]
        Tensor contextOut = merged[.., (int)imageTokens..]; // [B, L, D]
        if (to_add_out is not null) contextOut = to_add_out.forward(contextOut);
        return (imageOut.MoveToOuterDisposeScope(), contextOut.MoveToOuterDisposeScope());
    }

    private Tensor SplitHeads(Tensor tokens) =>
        tokens.view(tokens.shape[0], -1, _heads, _headDim).transpose(1, 2); // [B, heads, L, Dh]
}
