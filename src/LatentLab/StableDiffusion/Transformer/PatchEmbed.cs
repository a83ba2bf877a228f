using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// Cuts latents into patches, projects each to a token of width D and adds a fixed 2-D sine-cosine position
/// embedding. The table covers a <c>pos_embed_max_size</c>-square grid and is centre-cropped to the latent grid,
/// so one model serves many resolutions. Checkpoint keys: <c>proj.*</c>, <c>pos_embed</c>.
/// </summary>
internal sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;
    private readonly Tensor pos_embed;
    private readonly int _patchSize;
    private readonly int _maxSize;

    public PatchEmbed(SD3TransformerConfig config) : base(nameof(PatchEmbed))
    {
        _patchSize = config.PatchSize;
        _maxSize = config.PosEmbedMaxSize;
        proj = nn.Conv2d(config.InChannels, config.InnerDim, config.PatchSize, stride: config.PatchSize);
        int baseSize = config.SampleSize / config.PatchSize;
        using Tensor table = SinCosTable(config.InnerDim, _maxSize, baseSize);
        // A buffer owned by the module, not by whatever dispose scope the module happens to be built in.
        pos_embed = table.unsqueeze(0).DetachFromDisposeScope(); // [1, M*M, D]
        RegisterComponents();
    }

    /// <param name="latents">[B, C, H, W] with H and W multiples of the patch size.</param>
    /// <returns>Tokens [B, (H/p)(W/p), D], row-major over the patch grid.</returns>
    public override Tensor forward(Tensor latents)
    {
        long height = latents.shape[2] / _patchSize;
        long width = latents.shape[3] / _patchSize;
        if (height > _maxSize || width > _maxSize)
        {
            throw new ArgumentException(
                $"latents of {latents.shape[2]}x{latents.shape[3]} need a {height}x{width} patch grid, larger than " +
                $"the model's position table ({_maxSize}x{_maxSize} patches)");
        }
        using var scope = NewDisposeScope();
        Tensor tokens = proj.forward(latents).flatten(2).transpose(1, 2); // [B, h*w, D]

        // Centre crop of the [M, M] table to the [h, w] patch grid.
        long top = (_maxSize - height) / 2;
        long left = (_maxSize - width) / 2;
        Tensor table = pos_embed.reshape(1, _maxSize, _maxSize, -1); // [1, M, M, D]
        Tensor cropped = table[.., (int)top..(int)(top + height), (int)left..(int)(left + width), ..]
            .reshape(1, height * width, -1); // [1, h*w, D]
        return (tokens + cropped).to(tokens.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 2-D sine-cosine table of MAE / DiT for a <paramref name="gridSize"/>-square grid whose coordinates are
    /// scaled so that <paramref name="baseSize"/> patches span the base grid: the first D/2 channels encode the
    /// column coordinate, the last D/2 the row coordinate, each as [sin(pos w_k), cos(pos w_k)] with
    /// w_k = 10000^(-k / (D/4)). Computed in float64 from float32 coordinates, as the reference does.
    /// </summary>
    internal static Tensor SinCosTable(int dim, int gridSize, int baseSize)
    {
        if (dim % 4 != 0) throw new ArgumentException($"position embedding width must be a multiple of 4, got {dim}");
        int quarter = dim / 4;
        float step = (float)gridSize / baseSize;
        double[] frequencies = new double[quarter];
        for (int k = 0; k < quarter; k++) frequencies[k] = 1.0 / Math.Pow(10000, k / (dim / 4.0));
        float[] table = new float[gridSize * gridSize * dim];
        for (int row = 0; row < gridSize; row++)
        {
            for (int column = 0; column < gridSize; column++)
            {
                double columnPosition = (float)column / step;
                double rowPosition = (float)row / step;
                int offset = (row * gridSize + column) * dim;
                for (int k = 0; k < quarter; k++)
                {
                    table[offset + k] = (float)Math.Sin(columnPosition * frequencies[k]);
                    table[offset + quarter + k] = (float)Math.Cos(columnPosition * frequencies[k]);
                    table[offset + 2 * quarter + k] = (float)Math.Sin(rowPosition * frequencies[k]);
                    table[offset + 3 * quarter + k] = (float)Math.Cos(rowPosition * frequencies[k]);
                }
            }
        }
        return torch.tensor(table, [gridSize * gridSize, dim]); // [M*M, D]
    }
}
