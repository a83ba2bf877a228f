using System.Globalization;

namespace LatentLab.Bench;

/// <summary>Resident memory of this process, from /proc (Linux): current and peak (high-water mark).</summary>
public static class PeakMemory
{
    /// <summary>Peak resident set size in bytes (VmHWM), or -1 where /proc is not available.</summary>
    public static long PeakBytes() => ReadStatus("VmHWM:");

    /// <summary>Current resident set size in bytes (VmRSS).</summary>
    public static long CurrentBytes() => ReadStatus("VmRSS:");

    /// <summary>Resets the peak to the current size (writes 5 to /proc/self/clear_refs), where the kernel allows it.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string Format(long bytes) =>
        bytes < 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F0} MiB");

    private static long ReadStatus(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            string kilobytes = line[field.Length..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
        }
        return -1;
    }
}
