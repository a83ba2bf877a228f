using System.Formats.Tar;
using System.IO.Compression;

namespace LatentLab.Data;

/// <summary>
/// Extracts gzip-compressed tar archives without trusting them: every entry must land inside the target folder
/// (no absolute paths, no <c>..</c> escapes), links and device entries are refused, and the extraction happens in a
/// temporary sibling folder that is renamed into place only when complete.
/// </summary>
public static class SafeArchive
{
    /// <summary>Extracts <paramref name="archivePath"/> (.tgz / .tar.gz) into <paramref name="targetDirectory"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// An entry that would escape the target, a link or special file, or a corrupt archive; the message names the
    /// archive and the entry.
    /// </exception>
    public static void ExtractTarGz(string archivePath, string targetDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archivePath);
        ArgumentNullException.ThrowIfNull(targetDirectory);
        string target = Path.GetFullPath(targetDirectory);
        string parent = Path.GetDirectoryName(target.TrimEnd(Path.DirectorySeparatorChar))!;
        Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.extracting");
        Directory.CreateDirectory(temporary);
        try
        {
            using (FileStream file = File.OpenRead(archivePath))
            using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            using (var reader = new TarReader(gzip))
            {
                while (reader.GetNextEntry() is { } entry)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Extract(entry, temporary, archivePath);
                }
            }
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(temporary, target);
        }
        catch (Exception error) when (error is InvalidDataException or FormatException or EndOfStreamException)
        {
            TryDelete(temporary);
            throw error as InvalidDataException
                  ?? new InvalidDataException($"{archivePath}: not a valid .tar.gz archive ({error.Message})", error);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// The full path an entry name maps to under <paramref name="root"/>, or null when it would leave it (absolute
    /// names, drive letters, <c>..</c> segments that climb out).
    /// </summary>
    public static string? ResolveInside(string root, string entryName)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(entryName);
        string relative = entryName.Replace('\\', '/');
        if (relative.Length == 0 || relative.StartsWith('/') || Path.IsPathRooted(relative) || relative.Contains(':'))
            return null;
        string fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(Path.Combine(fullRoot, relative));
        return full.StartsWith(fullRoot, StringComparison.Ordinal) || full + Path.DirectorySeparatorChar == fullRoot
            ? full
            : null;
    }

    private static void Extract(TarEntry entry, string root, string archivePath)
    {
        string? destination = ResolveInside(root, entry.Name);
        if (destination is null)
            throw new InvalidDataException($"{archivePath}: entry '{entry.Name}' would be written outside the target folder.");
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                Directory.CreateDirectory(destination);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                if (File.Exists(destination) || Directory.Exists(destination))
                    throw new InvalidDataException($"{archivePath}: entry '{entry.Name}' appears twice.");
                using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write))
                {
                    entry.DataStream?.CopyTo(output);
                }
                break;
            case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                break;
            default:
                throw new InvalidDataException(
                    $"{archivePath}: entry '{entry.Name}' is a {entry.EntryType}; only files and folders are extracted.");
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary folder is harmless and named as such.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
