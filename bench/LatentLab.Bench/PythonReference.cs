using System.Diagnostics;
using System.Text.Json;

namespace LatentLab.Bench;

/// <summary>
/// Runs a reference script from bench/reference/ with Debian's python3 (which has python3-torch) and parses the
/// one JSON object it prints on its last line of standard output.
/// </summary>
public static class PythonReference
{
    /// <summary>The interpreter: $LATENTLAB_BENCH_PYTHON, else /usr/bin/python3 (Debian's, with python3-torch).</summary>
    public static string Interpreter =>
        Environment.GetEnvironmentVariable("LATENTLAB_BENCH_PYTHON") is { Length: > 0 } custom ? custom : "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> with arguments; null (and a printed reason) if it cannot run.</summary>
    public static JsonDocument? Run(string script, params string[] arguments)
    {
        string path = Path.Combine(FindReferenceFolder(), script);
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(path);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using Process process = Process.Start(start)!;
            Task<string> errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"reference: {script} failed ({process.ExitCode}): {errors.Result.Trim().Split('\n')[^1]}");
                return null;
            }
            string last = output.TrimEnd().Split('\n')[^1];
            return JsonDocument.Parse(last);
        }
        catch (Exception error) when (error is System.ComponentModel.Win32Exception or JsonException)
        {
            Console.WriteLine($"reference: cannot run {Interpreter} {script}: {error.Message} " +
                              "(install Debian's python3-torch: apt-get install python3-torch)");
            return null;
        }
    }

    private static string FindReferenceFolder()
    {
        for (string? folder = AppContext.BaseDirectory; folder != null; folder = Path.GetDirectoryName(folder))
        {
            string candidate = Path.Combine(folder, "bench", "reference");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("bench/reference not found above " + AppContext.BaseDirectory);
    }
}
