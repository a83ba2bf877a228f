using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>
/// <c>latentlab walk "A" "B" "C"</c>: a closed loop through several prompts' embeddings (A to B to C and back to A)
/// as one animation, every frame from the same noise; <c>latentlab walk "A" --noise-walk</c>: one prompt, the noise
/// walked round a circle between two draws (cos and sin of an angle, so its norm stays a unit normal's).
/// </summary>
internal static class WalkCommand
{
    public static Command Create()
    {
        var shared = new Sd3CommandOptions();
        var prompts = new Argument<string[]>("prompts")
        {
            Description = "Two or more prompts to loop through, or one with --noise-walk.",
            Arity = ArgumentArity.OneOrMore,
        };
        Option<int> perSegment = CommonOptions.AtLeast("--frames-per-segment", 1, 8, "Frames from one prompt to the next.", maximum: 10_000);
        Option<int> noiseFrames = CommonOptions.AtLeast("--frames", 2, 16, "With --noise-walk: frames round the circle.", maximum: 10_000);
        var noiseWalk = new Option<bool>("--noise-walk")
        {
            Description = "Walk the noise (seed and seed + 1 mixed by cos/sin of an angle) for one prompt.",
        };
        WalkOptions walk = new("walk");
        var command = new Command("walk", "Animate a loop through several prompts, or through the noise of one.");
        command.Arguments.Add(prompts);
        shared.AddOptionsTo(command);
        command.Options.Add(perSegment);
        command.Options.Add(noiseFrames);
        command.Options.Add(noiseWalk);
        walk.AddTo(command);
        command.SetGuardedAction((parsed, cancellationToken) => Task.FromResult(Run(parsed, shared,
            walk, parsed.GetValue(prompts)!, parsed.GetValue(perSegment), parsed.GetValue(noiseFrames),
            parsed.GetValue(noiseWalk), cancellationToken)));
        return command;
    }

    private static int Run(ParseResult parsed, Sd3CommandOptions shared, WalkOptions walk, string[] prompts,
        int framesPerSegment, int noiseFrames, bool noiseWalk, CancellationToken cancellationToken)
    {
        // 1. The command line, before any weights are read.
        if (noiseWalk && prompts.Length != 1)
            throw new UsageException($"--noise-walk takes exactly one prompt (got {prompts.Length}).");
        if (!noiseWalk && prompts.Length < 2)
            throw new UsageException("walk needs two or more prompts to loop through, or one prompt with --noise-walk.");
        WalkSettings settings = walk.Resolve(parsed, shared);
        if (settings.Model is null) return Sd3CommandOptions.ExplainMissingModel();
        int frameCount = noiseWalk ? noiseFrames : prompts.Length * framesPerSegment;
        CliOutput.Summary("Stable Diffusion 3: walk",
        [
            ("model", settings.Model), ("prompts", string.Join(" -> ", prompts) + (noiseWalk ? "" : $" -> {prompts[0]}")),
            ("walk", noiseWalk ? $"noise circle, seeds {settings.Seed} and {settings.Seed + 1}" : $"prompts, seed {settings.Seed}"),
            ("frames", frameCount.ToString(CultureInfo.InvariantCulture)),
            ("steps", settings.Steps.ToString(CultureInfo.InvariantCulture)), ("size", $"{settings.Width}x{settings.Height}"),
            ("batch", settings.Batch.ToString(CultureInfo.InvariantCulture)), ("out", settings.Folder),
        ]);

        // 2. Every prompt in one encoding (T5 is released after it), then the frames, resuming finished ones.
        using StableDiffusion3 pipeline = shared.OpenPipeline(parsed, settings.Model, settings.Options);
        foreach (string prompt in prompts) GenerateCommand.WarnTruncation(pipeline, "prompt", prompt);
        using Sd3TextEmbeddings all = pipeline.EncodeText(prompts, prompts.Select(_ => settings.Negative).ToList());
        pipeline.ReleaseTextEncoders(); // every prompt is encoded; free the encoders before the transformer loads
        var embeddings = Enumerable.Range(0, prompts.Length).Select(i => PromptWalk.Select(all, i)).ToList();
        try
        {
            string modelName = Sd3CommandOptions.ModelName(settings.Model);
            List<WalkFrame> frames = noiseWalk
                ? NoiseFrames(pipeline, settings, prompts[0], embeddings[0], noiseFrames, modelName)
                : PromptFrames(pipeline, settings, prompts, embeddings, framesPerSegment, modelName);
            return WalkOutput.RenderAndWrite(pipeline, settings, frames, "walk", writeStrip: false, cancellationToken);
        }
        finally
        {
            embeddings.ForEach(embedding => embedding.Dispose());
        }
    }

    private static List<WalkFrame> PromptFrames(StableDiffusion3 pipeline, WalkSettings settings, string[] prompts,
        List<Sd3TextEmbeddings> embeddings, int framesPerSegment, string modelName) =>
        PromptWalk.Loop(prompts.Length, framesPerSegment).Select(frame => new WalkFrame(
                settings.Parameters($"{prompts[frame.From]} -> {prompts[frame.To]}", settings.Seed, modelName) +
                string.Create(CultureInfo.InvariantCulture, $", Walk t: {frame.T:R}"),
                () => PromptInterpolation.InterpolateTextEmbeddings(embeddings[frame.From], embeddings[frame.To],
                    frame.T, frame.T, 1)[0],
                () => pipeline.PrepareLatents(1, settings.Width, settings.Height, settings.Seed)))
            .ToList();

    private static List<WalkFrame> NoiseFrames(StableDiffusion3 pipeline, WalkSettings settings, string prompt,
        Sd3TextEmbeddings embedding, int frameCount, string modelName) =>
        Enumerable.Range(0, frameCount).Select(i =>
            {
                double angle = 2 * Math.PI * i / frameCount;
                return new WalkFrame(
                    settings.Parameters(prompt, settings.Seed, modelName) +
                    string.Create(CultureInfo.InvariantCulture, $", Noise walk: seeds {settings.Seed}, {settings.Seed + 1}, angle {angle:R}"),
                    () => PromptWalk.Select(embedding, 0),
                    () =>
                    {
                        using torch.Tensor first = pipeline.PrepareLatents(1, settings.Width, settings.Height, settings.Seed);
                        using torch.Tensor second = pipeline.PrepareLatents(1, settings.Width, settings.Height, settings.Seed + 1);
                        return PromptWalk.MixNoise(first, second, angle);
                    });
            })
            .ToList();
}
