using System.Text;

namespace LatentLab.Training;

/// <summary>
/// Writes files and folders so that a crash or Ctrl-C at any moment leaves either the previous version or the new
/// one, never a half-written file: data goes to a temporary sibling which is flushed and then renamed into place
/// (a rename within one folder is atomic on POSIX file systems).
/// </summary>
public static class AtomicFiles
{
    /// <summary>Writes a file atomically through <paramref name="write"/>, replacing any existing file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                       bufferSize: 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));
    }

    /// <summary>
    /// Builds a folder atomically: <paramref name="fill"/> writes into a fresh temporary sibling, which then takes
    /// the place of <paramref name="finalDirectory"/>. The old folder is moved aside first and deleted last, so at
    /// every instant one complete version exists under one of the two names.
    /// </summary>
    public static void ReplaceDirectory(string finalDirectory, Action<string> fill)
    {
        ArgumentNullException.ThrowIfNull(finalDirectory);
        ArgumentNullException.ThrowIfNull(fill);
        string fullPath = Path.GetFullPath(finalDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string parent = Path.GetDirectoryName(fullPath)!;
        string name = Path.GetFileName(fullPath);
        Directory.CreateDirectory(parent);
        string temporary = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        string previous = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
        }
        catch
        {
            TryDeleteDirectory(temporary);
            throw;
        }

        bool hadPrevious = Directory.Exists(fullPath);
        if (hadPrevious) Directory.Move(fullPath, previous);
        Directory.Move(temporary, fullPath);
        if (hadPrevious) TryDeleteDirectory(previous);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a stray temporary file is harmless and hidden.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort, as above.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
