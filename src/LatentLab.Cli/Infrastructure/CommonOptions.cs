using System.CommandLine;

namespace LatentLab.Cli.Infrastructure;

/// <summary>Options shared by several commands, with their validation, so every command spells them alike.</summary>
public static class CommonOptions
{
    /// <summary><c>--device</c>: cpu (default), cuda or cuda:N.</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "Where tensors live: cpu, cuda or cuda:N (CUDA needs a CUDA build, see README).",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary><c>--seed</c>: optional; commands draw and print one when absent.</summary>
    public static Option<int?> Seed() => new("--seed")
    {
        Description = "Random seed; the same seed, data and thread count give the same result.",
    };

    /// <summary><c>--threads</c>: CPU threads for tensor maths (default: all cores).</summary>
    public static Option<int> Threads()
    {
        var option = new Option<int>("--threads")
        {
            Description = "CPU threads for tensor operations.",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError("--threads must be at least 1.");
        });
        return option;
    }

    /// <summary><c>--force</c>: allow replacing existing output.</summary>
    public static Option<bool> Force() => new("--force")
    {
        Description = "Replace existing output files instead of refusing.",
    };

    /// <summary>An integer option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(string name, int minimum, int defaultValue, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value < minimum) result.AddError($"{name} must be at least {minimum} (got {value}).");
        });
        return option;
    }

    /// <summary>A seed to use: the given one, or a fresh one drawn from the system's generator.</summary>
    public static int ResolveSeed(int? seed) => seed ?? Random.Shared.Next(0, int.MaxValue);

    /// <summary>Sets the thread count for libtorch's CPU kernels.</summary>
    public static void ApplyThreads(int threads) => TorchSharp.torch.set_num_threads(threads);
}
