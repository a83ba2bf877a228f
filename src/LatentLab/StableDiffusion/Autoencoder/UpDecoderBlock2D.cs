using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// One decoder level: resnets, then (except at the finest level) a nearest-neighbour 2x upsample and a 3x3 conv.
/// Keys: <c>resnets.{i}</c>, <c>upsamplers.0.conv</c>.
/// </summary>
internal sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Upsample2D> upsamplers;

    public UpDecoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        resnets = nn.ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, groups));
        upsamplers = addUpsample ? nn.ModuleList(new Upsample2D(outChannels)) : nn.ModuleList<Upsample2D>();
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = input;
        foreach (ResnetBlock2D resnet in resnets) hidden = resnet.forward(hidden);
        foreach (Upsample2D upsampler in upsamplers) hidden = upsampler.forward(hidden);
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>Nearest-neighbour 2x upsampling followed by a 3x3 conv (key <c>conv</c>).</summary>
    internal sealed class Upsample2D : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;

        public Upsample2D(int channels) : base(nameof(Upsample2D))
        {
            conv = nn.Conv2d(channels, channels, 3, padding: 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using Tensor upsampled = nn.functional.interpolate(input, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            return conv.forward(upsampled); // [B, C, 2H, 2W]
        }
    }
}
