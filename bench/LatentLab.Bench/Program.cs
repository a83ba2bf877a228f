namespace LatentLab.Bench;

/// <summary>
/// The benchmark harness: <c>dotnet run -c Release --project bench/LatentLab.Bench -- NAME [options]</c>.
/// Each benchmark measures LatentLab and, where there is one, the PyTorch reference on the same machine in the same
/// run, and prints both figures with their ratio.
/// </summary>
public static class Program
{
    /// <summary>Every benchmark by name; each family adds its own.</summary>
    private static readonly Dictionary<string, (string Description, Func<string[], Task<int>> Run)> Benchmarks =
        new(StringComparer.Ordinal)
        {
            [VaeTrainingBenchmark.Name] = (VaeTrainingBenchmark.Description, VaeTrainingBenchmark.Run),
            ["sd3"] = ("SD3 Medium transformer step and VAE decode, random weights, bf16/f32", StableDiffusion3Benchmark.Run),
            ["sd3-text"] = ("SD3 text encoders at real sizes: encode speed", Sd3TextBenchmark.Run),
            ["diffusion"] = ("diffusion U-Net training and sampling images/s vs PyTorch", DiffusionBenchmark.Run),
        };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var benchmark))
        {
            Console.WriteLine("usage: dotnet run -c Release --project bench/LatentLab.Bench -- NAME [options]");
            Console.WriteLine();
            foreach ((string name, (string description, _)) in Benchmarks) Console.WriteLine($"  {name,-20} {description}");
            return args.Length == 0 ? 0 : 2;
        }
        LatentLab.Runtime.TorchRuntime.EnsureLoaded();
        Console.WriteLine(MachineInfo.Describe());
        return await benchmark.Run(args[1..]);
    }
}
