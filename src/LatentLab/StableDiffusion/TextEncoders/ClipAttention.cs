using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>CLIP's multi-head self-attention; fields mirror the checkpoint's <c>self_attn.*</c> keys.</summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly int _heads;
    private readonly double _scale;

    public ClipAttention(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipAttention))
    {
        int width = config.HiddenSize;
        q_proj = factory.Linear(width, width, true);
        k_proj = factory.Linear(width, width, true);
        v_proj = factory.Linear(width, width, true);
        out_proj = factory.Linear(width, width, true);
        _heads = config.NumAttentionHeads;
        _scale = 1.0 / Math.Sqrt(width / _heads);
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, D]</param>
    /// <param name="attentionBias">Additive float32 mask broadcastable to [B, heads, L, L] (the causal mask).</param>
    public override Tensor forward(Tensor hiddenStates, Tensor attentionBias)
    {
        using var scope = NewDisposeScope();
        long batch = hiddenStates.shape[0], length = hiddenStates.shape[1], width = hiddenStates.shape[2];
        long headWidth = width / _heads;
        Tensor queries = q_proj.forward(hiddenStates).view(batch, length, _heads, headWidth).transpose(1, 2);
        Tensor keys = k_proj.forward(hiddenStates).view(batch, length, _heads, headWidth).transpose(1, 2);
        Tensor values = v_proj.forward(hiddenStates).view(batch, length, _heads, headWidth).transpose(1, 2);
        // [B, heads, L, Dh]

        // Scores and softmax in float32 whatever the weights' dtype.
        Tensor scores = matmul(queries, keys.transpose(2, 3)).to(ScalarType.Float32) * _scale + attentionBias;
        Tensor weights = scores.softmax(-1).to(values.dtype); // [B, heads, L, L]
        Tensor attended = matmul(weights, values).transpose(1, 2).reshape(batch, length, width); // [B, L, D]
        return out_proj.forward(attended).MoveToOuterDisposeScope();
    }
}
