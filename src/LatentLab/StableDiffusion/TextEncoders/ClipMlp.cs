using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>CLIP's feed-forward: fc1, activation, fc2; fields mirror the checkpoint's <c>mlp.*</c> keys.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Func<Tensor, Tensor> _activation;

    public ClipMlp(ClipTextConfig config, LayerFactory factory) : base(nameof(ClipMlp))
    {
        fc1 = factory.Linear(config.HiddenSize, config.IntermediateSize, true);
        fc2 = factory.Linear(config.IntermediateSize, config.HiddenSize, true);
        _activation = Activations.Resolve(config.HiddenAct, "hidden_act");
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(_activation(fc1.forward(input))).MoveToOuterDisposeScope();
    }
}
