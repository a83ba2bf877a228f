namespace LatentLab.Data;

/// <summary>A file published at one or more addresses (mirrors, tried in order), with its SHA-256 in hex.</summary>
public sealed record RemoteFile(string FileName, IReadOnlyList<Uri> Urls, string Sha256);
