using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// T5's feed-forward without its norm (<c>DenseReluDense.*</c>): gated, wo(act(wi_0 x) * wi_1 x); plain,
/// wo(act(wi x)). No biases.
/// </summary>
internal sealed class T5DenseFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Linear? wi;
    private readonly Linear? wi_0;
    private readonly Linear? wi_1;
    private readonly Linear wo;
    private readonly Func<Tensor, Tensor> _activation;

    public T5DenseFeedForward(T5EncoderConfig config, LayerFactory factory)
        : base(nameof(T5DenseFeedForward))
    {
        if (config.IsGatedAct)
        {
            wi_0 = factory.Linear(config.DModel, config.DFf, false);
            wi_1 = factory.Linear(config.DModel, config.DFf, false);
        }
        else
        {
            wi = factory.Linear(config.DModel, config.DFf, false);
        }
        wo = factory.Linear(config.DFf, config.DModel, false);
        _activation = Activations.Resolve(config.DenseActivation, "feed_forward_proj");
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = wi is not null
            ? _activation(wi.forward(input))
            : _activation(wi_0!.forward(input)) * wi_1!.forward(input); // [B, L, d_ff]
        return wo.forward(hidden).MoveToOuterDisposeScope();
    }
}
