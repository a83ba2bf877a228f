using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>One pre-norm CLIP transformer layer: x + attn(ln1(x)), then x + mlp(ln2(x)).</summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Float32LayerNorm layer_norm1;
    private readonly ClipAttention self_attn;
    private readonly Float32LayerNorm layer_norm2;
    private readonly ClipMlp mlp;

    public ClipEncoderLayer(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipEncoderLayer))
    {
        layer_norm1 = new Float32LayerNorm(config.HiddenSize, config.LayerNormEps, factory);
        self_attn = new ClipAttention(config, factory);
        layer_norm2 = new Float32LayerNorm(config.HiddenSize, config.LayerNormEps, factory);
        mlp = new ClipMlp(config, factory);
        RegisterComponents();
    }

    /// <param name="hiddenStates">[B, L, D]</param>
    /// <param name="attentionBias">Additive float32 causal mask [1, 1, L, L].</param>
    public override Tensor forward(Tensor hiddenStates, Tensor attentionBias)
    {
        using var scope = NewDisposeScope();
        Tensor attended = hiddenStates + self_attn.forward(layer_norm1.forward(hiddenStates), attentionBias);
        return (attended + mlp.forward(layer_norm2.forward(attended))).MoveToOuterDisposeScope();
    }
}
