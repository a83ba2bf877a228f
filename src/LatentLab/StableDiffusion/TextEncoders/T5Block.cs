using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>One T5 encoder block: <c>layer.0</c> self-attention, <c>layer.1</c> feed-forward.</summary>
internal sealed class T5Block : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<nn.Module> layer;

    public T5Block(T5EncoderConfig config, bool hasRelativeAttentionBias, LayerFactory factory)
        : base(nameof(T5Block))
    {
        layer = new ModuleList<nn.Module>(
            new T5LayerSelfAttention(config, hasRelativeAttentionBias, factory),
            new T5LayerFeedForward(config, factory));
        RegisterComponents();
    }

    private T5LayerSelfAttention Attention => (T5LayerSelfAttention)layer[0];

    private T5LayerFeedForward FeedForward => (T5LayerFeedForward)layer[1];

    /// <summary>The shared position bias [1, heads, L, L]; only the first block can compute it.</summary>
    public Tensor PositionBias(long length) => Attention.PositionBias(length);

    public override Tensor forward(Tensor hiddenStates, Tensor positionBias)
    {
        using var scope = NewDisposeScope();
        return FeedForward.forward(Attention.forward(hiddenStates, positionBias)).MoveToOuterDisposeScope();
    }
}
