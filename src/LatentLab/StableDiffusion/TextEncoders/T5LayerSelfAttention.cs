using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>A T5 block's first sub-layer: x + attention(rms_norm(x)); fields mirror <c>layer.0.*</c>.</summary>
internal sealed class T5LayerSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly T5Attention SelfAttention;
    private readonly T5LayerNorm layer_norm;

    public T5LayerSelfAttention(T5EncoderConfig config, bool hasRelativeAttentionBias, LayerFactory factory)
        : base(nameof(T5LayerSelfAttention))
    {
        SelfAttention = new T5Attention(config, hasRelativeAttentionBias, factory);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, factory);
        RegisterComponents();
    }

    public Tensor PositionBias(long length) => SelfAttention.PositionBias(length);

    public override Tensor forward(Tensor hiddenStates, Tensor positionBias)
    {
        using var scope = NewDisposeScope();
        Tensor attended = SelfAttention.forward(layer_norm.forward(hiddenStates), positionBias);
        return (hiddenStates + attended).MoveToOuterDisposeScope();
    }
}
