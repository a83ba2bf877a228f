using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// Single-head self-attention over all pixels of the middle block, with a group norm first and a residual.
/// Checkpoint keys: <c>group_norm</c>, <c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>.
/// </summary>
internal sealed class SpatialSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm32 group_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;

    public SpatialSelfAttention(int channels, int groups) : base(nameof(SpatialSelfAttention))
    {
        group_norm = new GroupNorm32(groups, channels);
        to_q = nn.Linear(channels, channels);
        to_k = nn.Linear(channels, channels);
        to_v = nn.Linear(channels, channels);
        to_out = nn.ModuleList(nn.Linear(channels, channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        Tensor pixels = group_norm.forward(input).view(batch, channels, height * width).transpose(1, 2); // [B, HW, C]
        Tensor query = to_q.forward(pixels).unsqueeze(1); // [B, 1, HW, C]
        Tensor key = to_k.forward(pixels).unsqueeze(1);
        Tensor value = to_v.forward(pixels).unsqueeze(1);
        Tensor attended = nn.functional.scaled_dot_product_attention(query, key, value).squeeze(1); // [B, HW, C]
        Tensor output = to_out[0].forward(attended).transpose(1, 2).reshape(batch, channels, height, width); // [B, C, H, W]
        return (output + input).MoveToOuterDisposeScope();
    }
}
