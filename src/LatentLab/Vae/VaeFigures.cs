using LatentLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>The pictures of a VAE's latent space, as image tensors [C, H, W] in [0, 1].</summary>
public static class VaeFigures
{
    /// <summary>
    /// The chapter's figure: images decoded from an evenly spaced <paramref name="size"/> x <paramref name="size"/>
    /// grid of z over [-range, range]^2, tiled without gaps (30 x 30 tiles of 28 px: 840 x 840). The first latent
    /// dimension grows to the right, the second upwards.
    /// </summary>
    /// <exception cref="ArgumentException">The VAE's latent is not 2-D, or size / range is out of range.</exception>
    public static Tensor LatentGrid(Vae vae, int size = 30, double range = 1.0)
    {
        ArgumentNullException.ThrowIfNull(vae);
        if (vae.Config.LatentDim != 2)
        {
            throw new ArgumentException(
                $"a latent grid needs a 2-D latent space; this VAE has latent_dim {vae.Config.LatentDim}.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        if (!(range > 0 && double.IsFinite(range)))
        {
            throw new ArgumentException($"range must be positive, got {range}.");
        }

        using var scope = NewDisposeScope();
        Tensor steps = linspace(-range, range, size, dtype: float32); // [n]
        Tensor columns = steps.repeat(size); // z0 for row-major tiles: [n * n]
        Tensor rows = steps.flip(0).repeat_interleave(size); // z1, top row highest: [n * n]
        Tensor latents = stack([columns, rows], dim: 1); // [n * n, 2]
        Tensor images = vae.Decode(latents).cpu(); // [n * n, C, H, W]
        return ImageGrid.Compose(images, size, padding: 0).MoveToOuterDisposeScope(); // [C, n H, n W]
    }

    /// <summary>
    /// Decodes <paramref name="steps"/> evenly spaced points on the segment from <paramref name="from"/> to
    /// <paramref name="to"/> (both [latent], both included): [steps, C, H, W].
    /// </summary>
    public static Tensor Interpolate(Vae vae, Tensor from, Tensor to, int steps)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        using var scope = NewDisposeScope();
        Tensor weights = linspace(0, 1, steps, dtype: float32, device: from.device).unsqueeze(1); // [steps, 1]
        Tensor latents = from.reshape(1, -1) * (1 - weights) + to.reshape(1, -1) * weights; // [steps, latent]
        return vae.Decode(latents).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Originals above their reconstructions: row pairs of up to <paramref name="columns"/> images, [C, H', W'].
    /// </summary>
    public static Tensor ReconstructionPairs(Vae vae, Tensor images, int columns = 10)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        using var scope = NewDisposeScope();
        Tensor originals = images.cpu();
        Tensor reconstructions = vae.Reconstruct(images).cpu();
        long count = originals.shape[0];
        int perRow = (int)Math.Min(columns, count);
        var rows = new List<Tensor>();
        for (long start = 0; start < count; start += perRow)
        {
            long length = Math.Min(perRow, count - start);
            Tensor blank = ones(perRow - length, originals.shape[1], originals.shape[2], originals.shape[3]);
            rows.Add(cat([originals.narrow(0, start, length), blank]));
            rows.Add(cat([reconstructions.narrow(0, start, length), blank]));
        }
        Tensor tiles = cat(rows); // [2 * rows * perRow, C, H, W]
        return ImageGrid.Compose(tiles, perRow, padding: 2).MoveToOuterDisposeScope();
    }
}
