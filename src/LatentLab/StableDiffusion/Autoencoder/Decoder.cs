using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>
/// The VAE decoder: conv_in, middle block, up blocks from coarse to fine, group norm, silu, conv_out.
/// Keys: <c>conv_in</c>, <c>mid_block</c>, <c>up_blocks.{i}</c>, <c>conv_norm_out</c>, <c>conv_out</c>.
/// </summary>
internal sealed class Decoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly MidBlock2D mid_block;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks;
    private readonly GroupNorm32 conv_norm_out;
    private readonly Conv2d conv_out;

    public Decoder(AutoencoderKLConfig config) : base(nameof(Decoder))
    {
        IReadOnlyList<int> channels = config.ResolvedBlockOutChannels;
        int groups = config.NormNumGroups;
        int coarsest = channels[^1];
        conv_in = nn.Conv2d(config.LatentChannels, coarsest, 3, padding: 1);
        mid_block = new MidBlock2D(coarsest, groups, config.MidBlockAddAttention);
        up_blocks = nn.ModuleList<UpDecoderBlock2D>();
        int previous = coarsest;
        for (int level = 0; level < channels.Count; level++)
        {
            int output = channels[channels.Count - 1 - level];
            bool finest = level == channels.Count - 1;
            up_blocks.Add(new UpDecoderBlock2D(previous, output, config.LayersPerBlock + 1, groups, addUpsample: !finest));
            previous = output;
        }
        conv_norm_out = new GroupNorm32(groups, channels[0]);
        conv_out = nn.Conv2d(channels[0], config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latents)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = mid_block.forward(conv_in.forward(latents)); // [B, C_last, h, w]
        foreach (UpDecoderBlock2D block in up_blocks) hidden = block.forward(hidden); // [B, C_0, 8h, 8w] at the end
        return conv_out.forward(nn.functional.silu(conv_norm_out.forward(hidden))).MoveToOuterDisposeScope();
    }

    // Inner stages for the tests that locate a mismatch against the reference.
    internal Conv2d ConvIn => conv_in;
    internal MidBlock2D MidBlock => mid_block;
    internal ModuleList<UpDecoderBlock2D> UpBlocks => up_blocks;
}
