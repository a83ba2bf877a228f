using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>A T5 block's second sub-layer: x + feed_forward(rms_norm(x)); fields mirror <c>layer.1.*</c>.</summary>
internal sealed class T5LayerFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly T5DenseFeedForward DenseReluDense;
    private readonly T5LayerNorm layer_norm;

    public T5LayerFeedForward(T5EncoderConfig config, LayerFactory factory)
        : base(nameof(T5LayerFeedForward))
    {
        DenseReluDense = new T5DenseFeedForward(config, factory);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, factory);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return (hiddenStates + DenseReluDense.forward(layer_norm.forward(hiddenStates))).MoveToOuterDisposeScope();
    }
}
