namespace LatentLab.Data;

/// <summary>Decoding progress: files done of the total found.</summary>
public sealed record ImageFolderProgress(int Done, int Total);
