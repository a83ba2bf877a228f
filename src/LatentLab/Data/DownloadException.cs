namespace LatentLab.Data;

/// <summary>A file could not be fetched or failed its checksum; the message says where to place it by hand.</summary>
public sealed class DownloadException : Exception
{
    public DownloadException() { }

    public DownloadException(string message) : base(message) { }

    public DownloadException(string message, Exception inner) : base(message, inner) { }
}
