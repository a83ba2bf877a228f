using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// The chapter's noise-predicting U-Net. Input: noisy images [B, C, H, W] and their noise variances [B, 1, 1, 1];
/// output: predicted noise [B, C, H, W]. Weights start as Keras starts them (Glorot-uniform kernels, zero biases),
/// and the last 1x1 conv starts at zero so an untrained network predicts no noise.
/// </summary>
public sealed class UNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Conv2d conv_in;
    private readonly ModuleList<ModuleList<ResidualBlock>> down_blocks = new();
    private readonly ModuleList<ResidualBlock> mid_blocks = new();
    private readonly ModuleList<ModuleList<ResidualBlock>> up_blocks = new();
    private readonly Conv2d conv_out;

    /// <summary>Builds the network for <paramref name="config"/> (validated here).</summary>
    public UNet(DiffusionConfig config) : base(nameof(UNet))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        IReadOnlyList<int> widths = config.Widths;
        int depth = config.BlockDepth;
        ResidualBlock Block(int input, int output) =>
            new(input, output, config.BatchNormEpsilon, config.BatchNormMomentum);

        conv_in = nn.Conv2d(config.Channels, widths[0], 1);

        // Down: the noise-variance channel joins the first block's input; a skip is kept after every block.
        int current = widths[0] + 1;
        var skipWidths = new Stack<int>();
        for (int stage = 0; stage < widths.Count - 1; stage++)
        {
            var blocks = new ModuleList<ResidualBlock>();
            for (int i = 0; i < depth; i++)
            {
                blocks.Add(Block(current, widths[stage]));
                current = widths[stage];
                skipWidths.Push(current);
            }
            down_blocks.Add(blocks);
        }

        for (int i = 0; i < depth; i++)
        {
            mid_blocks.Add(Block(current, widths[^1]));
            current = widths[^1];
        }

        // Up: each block first concatenates the matching skip (last kept, first used).
        for (int stage = widths.Count - 2; stage >= 0; stage--)
        {
            var blocks = new ModuleList<ResidualBlock>();
            for (int i = 0; i < depth; i++)
            {
                blocks.Add(Block(current + skipWidths.Pop(), widths[stage]));
                current = widths[stage];
            }
            up_blocks.Add(blocks);
        }

        conv_out = nn.Conv2d(current, config.Channels, 1);
        RegisterComponents();
        InitialiseLikeKeras();
    }

    /// <summary>Trainable parameters (what PyTorch counts).</summary>
    public long TrainableParameterCount => parameters().Sum(parameter => parameter.numel());

    /// <summary>
    /// Keras's "Total params": trainable ones plus the batch norms' moving mean and variance (not torch's
    /// num_batches_tracked counters).
    /// </summary>
    public long KerasParameterCount => TrainableParameterCount + named_buffers()
        .Where(buffer => !buffer.name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
        .Sum(buffer => buffer.buffer.numel());

    /// <summary>Predicts the noise in <paramref name="noisyImages"/> [B, C, H, W] given variances [B, 1, 1, 1].</summary>
    public override Tensor forward(Tensor noisyImages, Tensor noiseVariances)
    {
        ArgumentNullException.ThrowIfNull(noisyImages);
        ArgumentNullException.ThrowIfNull(noiseVariances);
        using var scope = NewDisposeScope();
        long batch = noisyImages.shape[0], height = noisyImages.shape[2], width = noisyImages.shape[3];

        // In: nearest upsampling of a 1x1 map to H x W is a broadcast of the one value.
        Tensor x = conv_in.forward(noisyImages);
        Tensor varianceMap = noiseVariances.reshape(batch, 1, 1, 1).expand(batch, 1, height, width);
        x = cat([x, varianceMap.to(x.dtype)], 1); // [B, W0 + 1, H, W]

        // Down.
        var skips = new Stack<Tensor>();
        foreach (ModuleList<ResidualBlock> stage in down_blocks)
        {
            foreach (ResidualBlock block in stage)
            {
                x = block.forward(x);
                skips.Push(x);
            }
            x = nn.functional.avg_pool2d(x, 2); // [B, Wi, H/2, W/2]
        }

        // Middle.
        foreach (ResidualBlock block in mid_blocks) x = block.forward(x);

        // Up.
        foreach (ModuleList<ResidualBlock> stage in up_blocks)
        {
            x = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Bilinear,
                align_corners: false); // [B, Wi, 2H, 2W]
            foreach (ResidualBlock block in stage)
            {
                x = cat([x, skips.Pop()], 1); // [B, Wi + Wskip, H, W]
                x = block.forward(x);
            }
        }

        return conv_out.forward(x).MoveToOuterDisposeScope();
    }

    private void InitialiseLikeKeras()
    {
        using var guard = no_grad();
        foreach ((string name, Parameter parameter) in named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal)) nn.init.zeros_(parameter);
            else if (name.StartsWith("conv_out.", StringComparison.Ordinal)) nn.init.zeros_(parameter);
            else nn.init.xavier_uniform_(parameter);
        }
    }
}
