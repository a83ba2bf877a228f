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
            // More threads than this only oversubscribes the cores (and libtorch may take minutes to start them).
            if (ParsedValue<int>(result) is < 1 or > MaxThreads)
                result.AddError($"--threads must be between 1 and {MaxThreads}.");
        });
        return option;
    }

    /// <summary><c>--force</c>: allow replacing existing output.</summary>
    public static Option<bool> Force() => new("--force")
    {
        Description = "Replace existing output files instead of refusing.",
    };

    /// <summary>Largest accepted --threads.</summary>
    public const int MaxThreads = 256;

    /// <summary>
    /// An integer option that must be at least <paramref name="minimum"/> and at most <paramref name="maximum"/>
    /// (limits keep an absurd value from hanging the machine or allocating terabytes).
    /// </summary>
    public static Option<int> AtLeast(string name, int minimum, int defaultValue, string description,
        int maximum = int.MaxValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (ParsedValue<int>(result) is not { } value) return;
            if (value < minimum) result.AddError($"{name} must be at least {minimum} (got {value}).");
            else if (value > maximum) result.AddError($"{name} must be at most {maximum} (got {value}).");
        });
        return option;
    }

    /// <summary>
    /// The value of an option inside a validator, or null when the text did not parse: the parser reports that
    /// itself, and asking for the value then would throw.
    /// </summary>
    public static T? ParsedValue<T>(System.CommandLine.Parsing.OptionResult result) where T : struct
    {
        ArgumentNullException.ThrowIfNull(result);
        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A seed to use: the given one, or a fresh one drawn from the system's generator.</summary>
    public static int ResolveSeed(int? seed) => seed ?? Random.Shared.Next(0, int.MaxValue);

    /// <summary>Sets the thread count for libtorch's CPU kernels.</summary>
    public static void ApplyThreads(int threads) => TorchSharp.torch.set_num_threads(threads);
}
