namespace LatentLab.Data;

/// <summary>The images loaded from a folder, the files left out, and whether they came from a cache.</summary>
public sealed record ImageFolderResult(ImageSet Images, IReadOnlyList<SkippedImage> Skipped, bool FromCache);
