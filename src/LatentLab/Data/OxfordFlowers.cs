namespace LatentLab.Data;

/// <summary>
/// Oxford Flowers 102 (Nilsback and Zisserman, 2008): 8,189 JPEG photographs of flowers, published by the Visual
/// Geometry Group as one 330 MB archive. Fetched into the data cache with resume and checksum, then extracted
/// safely; the images are read with <see cref="ImageFolderDataset"/>.
/// </summary>
public static class OxfordFlowers
{
    /// <summary>Name of the dataset under the data cache root.</summary>
    public const string FolderName = "oxford-flowers";

    /// <summary>
    /// The archive. The VGG site publishes no checksum; this SHA-256 is the one other projects pin for the same URL
    /// (for example the Julia DataDeps registration of "FlowersDataset"); a different file fails the check and is
    /// not used.
    /// </summary>
    public static readonly RemoteFile Archive = new("102flowers.tgz",
        [new Uri("https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz")],
        "2d01ecc807db462958cfe3d92f57a8c252b4abd240eb955770201e45f783b246");

    /// <summary>
    /// Makes sure the images are extracted under <paramref name="cacheRoot"/> and returns their folder (downloading
    /// <paramref name="archive"/>, by default <see cref="Archive"/>, first when needed).
    /// </summary>
    /// <exception cref="DownloadException">The archive could not be fetched; the message says where to place it.</exception>
    /// <exception cref="InvalidDataException">The archive holds an unsafe or corrupt entry.</exception>
    public static async Task<string> EnsureImagesAsync(string cacheRoot, FileDownloader downloader,
        IProgress<DownloadProgress>? progress = null, RemoteFile? archive = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cacheRoot);
        ArgumentNullException.ThrowIfNull(downloader);
        string folder = Path.Combine(cacheRoot, FolderName);
        string extracted = Path.Combine(folder, "extracted");
        // Extraction renames a finished temporary folder into place, so its existence means it is complete.
        if (!Directory.Exists(extracted))
        {
            string archivePath = await downloader
                .FetchAsync(archive ?? Archive, folder, progress, cancellationToken).ConfigureAwait(false);
            await Task.Run(() => SafeArchive.ExtractTarGz(archivePath, extracted, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
        }
        return extracted;
    }
}
