namespace LatentLab.Data;

/// <summary>Progress of one download; <see cref="BytesTotal"/> is null when the server does not say.</summary>
public sealed record DownloadProgress(string FileName, long BytesDone, long? BytesTotal);
