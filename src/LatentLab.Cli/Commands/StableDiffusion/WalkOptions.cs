using System.CommandLine;
using LatentLab.Cli.Infrastructure;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>The options <c>morph</c> and <c>walk</c> add to the shared ones: steps, batch, output folder, frame delay.</summary>
internal sealed class WalkOptions(string name)
{
    public Option<int> Steps { get; } = CommonOptions.AtLeast("--steps", 1, 28, "Denoising steps per frame.", maximum: 1000);

    public Option<int> Batch { get; } = CommonOptions.AtLeast("--batch", 1, 4, "Frames denoised together in one batch.", maximum: 256);

    public Option<string?> Out { get; } = new("--out")
    {
        Description = $"Folder for the frames, strip and GIF (default {name}-SEED); run again to resume.",
    };

    public Option<int> Delay { get; } = CommonOptions.AtLeast("--delay", 10, 100, "Milliseconds per GIF frame.");

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Steps, Batch, Out, Delay }) command.Options.Add(option);
    }

    /// <summary>Everything validated, the model resolved (null when none is configured), the seed drawn if absent.</summary>
    public WalkSettings Resolve(ParseResult parsed, Sd3CommandOptions shared)
    {
        (int width, int height) = Sd3CommandOptions.ParseSize(parsed.GetValue(shared.Size)!);
        double guidance = shared.ValidatedGuidance(parsed);
        var options = shared.PipelineOptions(parsed);
        int seed = CommonOptions.ResolveSeed(parsed.GetValue(shared.Seed));
        string folder = parsed.GetValue(Out) ?? $"{name}-{seed}";
        CommonOptions.ApplyThreads(parsed.GetValue(shared.Threads));
        return new WalkSettings(shared.ResolveModel(parsed), options, parsed.GetValue(shared.Negative)!, guidance, seed,
            width, height, parsed.GetValue(Steps), parsed.GetValue(Batch), folder, parsed.GetValue(Delay),
            parsed.GetValue(shared.Force));
    }
}
