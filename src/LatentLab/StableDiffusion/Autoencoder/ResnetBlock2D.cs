using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x), the shortcut a 1x1 conv when the channel count changes.
/// Checkpoint keys: <c>norm1</c>, <c>conv1</c>, <c>norm2</c>, <c>conv2</c>, <c>conv_shortcut</c>.
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm32 norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm32 norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    public ResnetBlock2D(int inChannels, int outChannels, int groups) : base(nameof(ResnetBlock2D))
    {
        norm1 = new GroupNorm32(groups, inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = new GroupNorm32(groups, outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        conv_shortcut = inChannels == outChannels ? null : nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = conv1.forward(nn.functional.silu(norm1.forward(input)));
        hidden = conv2.forward(nn.functional.silu(norm2.forward(hidden)));
        Tensor shortcut = conv_shortcut is null ? input : conv_shortcut.forward(input);
        return (shortcut + hidden).MoveToOuterDisposeScope();
    }
}
