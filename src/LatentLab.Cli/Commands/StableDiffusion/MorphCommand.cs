using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>
/// <c>latentlab morph "A" "B" [--start 0 --stop 1 --frames 9]</c>: one picture per point of a slerp between two
/// prompts' embeddings, as single frames, a strip and an animated GIF. Every frame starts from the same noise by
/// default, so only the prompt changes; <c>--fresh-noise</c> draws seed + i for frame i, as the chapter does.
/// </summary>
internal static class MorphCommand
{
    public static Command Create()
    {
        var shared = new Sd3CommandOptions();
        var first = new Argument<string>("prompt-a") { Description = "The prompt at t = 0." };
        var second = new Argument<string>("prompt-b") { Description = "The prompt at t = 1." };
        var start = new Option<double>("--start") { Description = "First interpolation point.", DefaultValueFactory = _ => 0 };
        var stop = new Option<double>("--stop") { Description = "Last interpolation point.", DefaultValueFactory = _ => 1 };
        Option<int> frames = CommonOptions.AtLeast("--frames", 1, 9, "Pictures from --start to --stop (both included).", maximum: 10_000);
        var freshNoise = new Option<bool>("--fresh-noise")
        {
            Description = "Draw new noise for every frame (seed + i) instead of sharing the first frame's.",
        };
        WalkOptions walk = new("morph");
        var command = new Command("morph", "Morph one prompt's picture into another's by walking between their embeddings.");
        command.Arguments.Add(first);
        command.Arguments.Add(second);
        shared.AddOptionsTo(command);
        command.Options.Add(start);
        command.Options.Add(stop);
        command.Options.Add(frames);
        command.Options.Add(freshNoise);
        walk.AddTo(command);
        command.SetGuardedAction((parsed, cancellationToken) => Task.FromResult(Run(parsed, shared,
            walk, parsed.GetValue(first)!, parsed.GetValue(second)!, parsed.GetValue(start), parsed.GetValue(stop),
            parsed.GetValue(frames), parsed.GetValue(freshNoise), cancellationToken)));
        return command;
    }

    private static int Run(ParseResult parsed, Sd3CommandOptions shared, WalkOptions walk, string promptA,
        string promptB, double start, double stop, int frameCount, bool freshNoise, CancellationToken cancellationToken)
    {
        // 1. The command line, before any weights are read.
        if (!double.IsFinite(start) || !double.IsFinite(stop))
            throw new UsageException("--start and --stop must be finite numbers.");
        WalkSettings settings = walk.Resolve(parsed, shared);
        if (settings.Model is null) return Sd3CommandOptions.ExplainMissingModel();
        IReadOnlyList<double> positions = PromptInterpolation.Positions(start, stop, frameCount);
        CliOutput.Summary("Stable Diffusion 3: morph",
        [
            ("model", settings.Model), ("prompt A", promptA), ("prompt B", promptB),
            ("t", string.Create(CultureInfo.InvariantCulture, $"{start:G} .. {stop:G}, {frameCount} frames")),
            ("noise", freshNoise ? $"fresh: seed {settings.Seed} + frame" : $"shared: seed {settings.Seed}"),
            ("steps", settings.Steps.ToString(CultureInfo.InvariantCulture)), ("size", $"{settings.Width}x{settings.Height}"),
            ("batch", settings.Batch.ToString(CultureInfo.InvariantCulture)), ("out", settings.Folder),
        ]);

        // 2. Both prompts in one encoding (T5 is released after it), then the frames, resuming finished ones.
        using StableDiffusion3 pipeline = shared.OpenPipeline(parsed, settings.Model, settings.Options);
        GenerateCommand.WarnTruncation(pipeline, "prompt A", promptA);
        GenerateCommand.WarnTruncation(pipeline, "prompt B", promptB);
        using Sd3TextEmbeddings both = pipeline.EncodeText([promptA, promptB], [settings.Negative, settings.Negative]);
        pipeline.ReleaseTextEncoders(); // both prompts are encoded; free the encoders before the transformer loads
        using Sd3TextEmbeddings a = PromptWalk.Select(both, 0);
        using Sd3TextEmbeddings b = PromptWalk.Select(both, 1);
        string modelName = Sd3CommandOptions.ModelName(settings.Model);
        var frames = positions.Select((t, i) => new WalkFrame(
            settings.Parameters($"{promptA} -> {promptB}", freshNoise ? settings.Seed + i : settings.Seed, modelName) +
            string.Create(CultureInfo.InvariantCulture, $", Morph t: {t:R}"),
            () => PromptInterpolation.InterpolateTextEmbeddings(a, b, t, t, 1)[0],
            () => pipeline.PrepareLatents(1, settings.Width, settings.Height, freshNoise ? settings.Seed + i : settings.Seed)))
            .ToList();
        return WalkOutput.RenderAndWrite(pipeline, settings, frames, "morph", writeStrip: true, cancellationToken);
    }
}
