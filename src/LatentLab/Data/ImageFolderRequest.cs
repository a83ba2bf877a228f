using SkiaSharp;

namespace LatentLab.Data;

/// <summary>
/// What to load from a folder of pictures: every image below <see cref="Directory"/> (recursively), centre-cropped to
/// the aspect ratio of <see cref="Height"/> x <see cref="Width"/> and resized to it, as RGB.
/// </summary>
public sealed record ImageFolderRequest(string Directory, int Height, int Width)
{
    /// <summary>Colour that transparent pixels are composed over. Default white.</summary>
    public SKColor Background { get; init; } = SKColors.White;

    /// <summary>Images with more pixels than this are refused (decompression bombs). Default 100 megapixels.</summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>
    /// Label each image by the first-level subfolder it is in (class names sorted ordinally, label = index), like
    /// Keras's <c>labels="inferred"</c>; images directly in <see cref="Directory"/> are then skipped. Default false.
    /// </summary>
    public bool LabelsFromSubfolders { get; init; }

    /// <summary>
    /// Keep the resized images in a cache file beside the data, so later runs do no decoding; when the folder is not
    /// writable the images are still kept in memory for this process. Default true.
    /// </summary>
    public bool UseCacheFile { get; init; } = true;
}
