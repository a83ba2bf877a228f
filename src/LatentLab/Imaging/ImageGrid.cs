using TorchSharp;

namespace LatentLab.Imaging;

/// <summary>Tiles a batch of images into one picture, row by row.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Tiles images [N, C, H, W] into [C, rows*H + (rows-1)*padding, columns*W + (columns-1)*padding], filling
    /// row-major; gaps and unused cells take <paramref name="padValue"/>.
    /// </summary>
    public static torch.Tensor Compose(torch.Tensor images, int columns, int padding = 2, float padValue = 1f)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4) throw new ArgumentException($"expected images [N, C, H, W], got {images.dim()} dimensions.");
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        long count = images.shape[0];
        long channels = images.shape[1];
        long height = images.shape[2];
        long width = images.shape[3];
        int columnsUsed = (int)Math.Min(columns, Math.Max(count, 1));
        long rows = Math.Max(1, (count + columnsUsed - 1) / columnsUsed);

        torch.Tensor grid = torch.full([channels, rows * height + (rows - 1) * padding,
            columnsUsed * width + (columnsUsed - 1) * padding], padValue, images.dtype, images.device);
        using (torch.no_grad())
        {
            for (long index = 0; index < count; index++)
            {
                long top = index / columnsUsed * (height + padding);
                long left = index % columnsUsed * (width + padding);
                using torch.Tensor cell = grid.narrow(1, top, height).narrow(2, left, width);
                using torch.Tensor image = images[index];
                cell.copy_(image);
            }
        }
        return grid;
    }
}
