using System.Runtime.InteropServices;
using TorchSharp;

namespace LatentLab.Runtime;

/// <summary>
/// Loads the native tensor library (libtorch through TorchSharp) once, and turns a failure into one clear sentence
/// naming what is missing, instead of TorchSharp's generic "no libtorch reference" message.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock LoadLock = new();
    private static bool _loaded;

    /// <summary>Makes sure libtorch is loaded and usable on the CPU.</summary>
    /// <exception cref="NativeLibraryException">The native libraries are missing or cannot be loaded.</exception>
    public static void EnsureLoaded()
    {
        lock (LoadLock)
        {
            if (_loaded) return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                _loaded = true;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                throw new NativeLibraryException(Diagnose(), error);
            }
        }
    }

    /// <summary>
    /// Parses a device name such as <c>cpu</c>, <c>cuda</c> or <c>cuda:1</c> and checks it is usable.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA asked for with a CPU-only build.</exception>
    public static torch.Device ParseDevice(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureLoaded();
        string normalised = name.Trim().ToLowerInvariant();
        if (normalised == "cpu") return torch.CPU;
        if (normalised == "cuda" || normalised.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException(
                    $"device '{name}': CUDA is not available in this build (it uses TorchSharp-cpu); " +
                    "rebuild with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use --device cpu.");
            }
            return torch.device(normalised);
        }
        throw new ArgumentException($"device '{name}' is not supported; use cpu, cuda or cuda:N.");
    }

    /// <summary>Finds the first native library that does not load and says why, in one line.</summary>
    private static string Diagnose()
    {
        string directory = AppContext.BaseDirectory;
        string[] libraries = OperatingSystem.IsWindows()
            ? ["torch_cpu.dll", "LibTorchSharp.dll"]
            : OperatingSystem.IsMacOS()
                ? ["libtorch_cpu.dylib", "libLibTorchSharp.dylib"]
                : ["libtorch_cpu.so", "libLibTorchSharp.so"];
        foreach (string library in libraries)
        {
            string path = Path.Combine(directory, library);
            if (!File.Exists(path))
            {
                return $"native library {library} is missing from {directory}; restore and build the project " +
                       "for this platform's runtime identifier (e.g. -r linux-x64).";
            }
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
            }
            catch (DllNotFoundException error)
            {
                string reason = error.Message.ReplaceLineEndings(" ");
                string hint = reason.Contains("GLIBCXX_", StringComparison.Ordinal)
                    ? " (the build normally weakens TorchSharp's GLIBCXX_3.4.32 need; see README \"Native libraries\")"
                    : "";
                return $"cannot load native library {path}: {reason}{hint}";
            }
        }
        return "libtorch loaded but TorchSharp could not initialise it; check that TorchSharp and libtorch versions match.";
    }
}

/// <summary>The native tensor library could not be loaded; the message says which file and why.</summary>
public sealed class NativeLibraryException : Exception
{
    public NativeLibraryException() { }

    public NativeLibraryException(string message) : base(message) { }

    public NativeLibraryException(string message, Exception inner) : base(message, inner) { }
}
