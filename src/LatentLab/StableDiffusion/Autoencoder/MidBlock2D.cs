using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>resnet, then (attention, resnet) at the coarsest level. Keys: <c>resnets.{0,1}</c>, <c>attentions.0</c>.</summary>
internal sealed class MidBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SpatialSelfAttention> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    public MidBlock2D(int channels, int groups, bool addAttention) : base(nameof(MidBlock2D))
    {
        attentions = addAttention ? nn.ModuleList(new SpatialSelfAttention(channels, groups)) : nn.ModuleList<SpatialSelfAttention>();
        resnets = nn.ModuleList(new ResnetBlock2D(channels, channels, groups), new ResnetBlock2D(channels, channels, groups));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = resnets[0].forward(input);
        if (attentions.Count > 0) hidden = attentions[0].forward(hidden);
        return resnets[1].forward(hidden).MoveToOuterDisposeScope();
    }
}
