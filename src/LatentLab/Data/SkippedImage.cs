namespace LatentLab.Data;

/// <summary>An image file that was left out of a dataset, and why.</summary>
public sealed record SkippedImage(string Path, string Reason);
