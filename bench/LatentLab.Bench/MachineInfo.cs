using System.Globalization;
using System.Runtime.InteropServices;

namespace LatentLab.Bench;

/// <summary>What the figures were measured on, printed at the top of every benchmark.</summary>
public static class MachineInfo
{
    public static string Describe()
    {
        string model = ReadCpuField("model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        return string.Create(CultureInfo.InvariantCulture,
            $"machine: {model}, {Environment.ProcessorCount} logical cores, .NET {Environment.Version}, " +
            $"torch threads {TorchSharp.torch.get_num_threads()}");
    }

    /// <summary>A field of the first processor in /proc/cpuinfo, or null where there is none.</summary>
    public static string? ReadCpuField(string name)
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == name) return line[(colon + 1)..].Trim();
        }
        return null;
    }
}
