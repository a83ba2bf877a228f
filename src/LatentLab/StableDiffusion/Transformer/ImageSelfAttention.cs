using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// Multi-head self-attention over the image tokens alone: MMDiT-X's second attention (<c>attn2</c>) in
/// SD 3.5 Medium's first blocks, with optional RMS norms of each head's queries and keys.
/// Checkpoint keys: <c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>, and with qk norm <c>norm_q</c>,
/// <c>norm_k</c>.
/// </summary>
internal sealed class ImageSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;
    private readonly RmsNorm? norm_q;
    private readonly RmsNorm? norm_k;
    private readonly int _heads;
    private readonly int _headDim;

    public ImageSelfAttention(int dim, int heads, int headDim, bool qkNorm) : base(nameof(ImageSelfAttention))
    {
        _heads = heads;
        _headDim = headDim;
        int inner = heads * headDim;
        to_q = nn.Linear(dim, inner);
        to_k = nn.Linear(dim, inner);
        to_v = nn.Linear(dim, inner);
        to_out = nn.ModuleList(nn.Linear(inner, dim));
        if (qkNorm)
        {
            norm_q = new RmsNorm(headDim, JointAttention.QkNormEpsilon);
            norm_k = new RmsNorm(headDim, JointAttention.QkNormEpsilon);
        }
        RegisterComponents();
    }

    /// <param name="image">Normalised image tokens [B, N, D].</param>
    /// <returns>[B, N, D]</returns>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        Tensor query = SplitHeads(to_q.forward(image)); // [B, heads, N, Dh]
        Tensor key = SplitHeads(to_k.forward(image));
        Tensor value = SplitHeads(to_v.forward(image));
        if (norm_q is not null) query = norm_q.forward(query);
        if (norm_k is not null) key = norm_k.forward(key);
        Tensor attended = nn.functional.scaled_dot_product_attention(query, key, value); // [B, heads, N, Dh]
        Tensor merged = attended.transpose(1, 2).reshape(attended.shape[0], -1, _heads * _headDim); // [B, N, D]
        return to_out[0].forward(merged).MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor tokens) =>
        tokens.view(tokens.shape[0], -1, _heads, _headDim).transpose(1, 2); // [B, heads, N, Dh]
}
