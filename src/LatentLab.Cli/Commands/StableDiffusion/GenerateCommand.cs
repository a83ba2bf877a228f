using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary><c>latentlab generate "PROMPT" --model DIR ...</c>: text to PNG files carrying their parameters.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var shared = new Sd3CommandOptions();
        Option<int> steps = CommonOptions.AtLeast("--steps", 1, 28, "Denoising steps.", maximum: 1000);
        Option<int> count = CommonOptions.AtLeast("--count", 1, 1, "Pictures to make; picture i uses seed + i.", maximum: 10_000);
        var output = new Option<string?>("--out")
        {
            Description = "PNG file to write (default sd3-SEED.png); with --count, -1, -2, ... before the extension.",
        };
        var command = new Command("generate", "Make pictures from a prompt with Stable Diffusion 3.");
        shared.AddTo(command);
        command.Options.Add(steps);
        command.Options.Add(count);
        command.Options.Add(output);
        command.SetGuardedAction((parsed, cancellationToken) => Task.FromResult(
            Run(parsed, shared, parsed.GetValue(steps), parsed.GetValue(count), parsed.GetValue(output), cancellationToken)));
        return command;
    }

    private static int Run(ParseResult parsed, Sd3CommandOptions shared, int numSteps, int count, string? output,
        CancellationToken cancellationToken)
    {
        // 1. Everything that can be wrong with the command line, before any weights are read.
        string prompt = parsed.GetValue(shared.Prompt)!;
        string negative = parsed.GetValue(shared.Negative)!;
        (int width, int height) = Sd3CommandOptions.ParseSize(parsed.GetValue(shared.Size)!);
        double guidance = shared.ValidatedGuidance(parsed);
        StableDiffusion3Options options = shared.PipelineOptions(parsed);
        bool overwrite = parsed.GetValue(shared.Force);
        string? modelFolder = shared.ResolveModel(parsed);
        if (modelFolder is null) return Sd3CommandOptions.ExplainMissingModel();
        int seed = CommonOptions.ResolveSeed(parsed.GetValue(shared.Seed));
        string[] paths = OutputPaths(output ?? $"sd3-{seed}.png", count);
        foreach (string path in paths) ImageFiles.EnsureWritable(path, overwrite);
        CommonOptions.ApplyThreads(parsed.GetValue(shared.Threads));

        CliOutput.Summary("Stable Diffusion 3: generate",
        [
            ("model", modelFolder), ("prompt", prompt), ("negative", negative.Length == 0 ? "(none)" : negative),
            ("steps", numSteps.ToString(CultureInfo.InvariantCulture)),
            ("guidance", guidance.ToString("G", CultureInfo.InvariantCulture)),
            ("seed", count == 1 ? seed.ToString(CultureInfo.InvariantCulture) : $"{seed} .. {seed + count - 1}"),
            ("size", $"{width}x{height}"), ("dtype", options.DType.ToString()),
            ("T5", options.UseT5 ? $"on, {options.MaxT5SequenceLength} tokens" : "off"), ("device", options.Device),
        ]);

        // 2. Load, warn about truncation, encode once; then the text encoders are freed and the transformer is read.
        using StableDiffusion3 pipeline = shared.OpenPipeline(parsed, modelFolder, options);
        WarnTruncation(pipeline, "prompt", prompt);
        WarnTruncation(pipeline, "negative prompt", negative);
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(prompt, negative);
        pipeline.ReleaseTextEncoders(); // the prompts are encoded once; free the encoders before the transformer loads

        // 3. One picture at a time (seed + i), each with a bar and its own parameters.
        string modelName = Sd3CommandOptions.ModelName(modelFolder);
        for (int i = 0; i < count; i++)
        {
            long imageSeed = (long)seed + i;
            using ConsoleProgress bar = ConsoleProgress.Start($"picture {i + 1}/{count}", numSteps);
            double secondsPerStep = 0;
            var progress = new ActionProgress<Sd3StepProgress>(report =>
            {
                secondsPerStep = report.Elapsed.TotalSeconds / report.Step;
                bar.Report(report.Step, string.Create(CultureInfo.InvariantCulture, $"{secondsPerStep:F2} s/step"));
            });
            using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, numSteps, guidance, imageSeed,
                width, height, progress: progress, cancellationToken: cancellationToken);
            string parameters = Sd3CommandOptions.ParametersText(prompt, negative, numSteps, guidance, imageSeed, width,
                height, modelName);
            using torch.Tensor image = result.Images[0];
            ImageFiles.SavePng(paths[i], image, new Dictionary<string, string> { ["parameters"] = parameters }, overwrite);
            bar.Complete(string.Create(CultureInfo.InvariantCulture,
                $"picture {i + 1}/{count}: seed {imageSeed}, {numSteps} steps, {secondsPerStep:F2} s/step -> {paths[i]}"));
        }
        return ExitCodes.Ok;
    }

    private static string[] OutputPaths(string output, int count)
    {
        if (count == 1) return [output];
        string directory = Path.GetDirectoryName(output) ?? "";
        string stem = Path.GetFileNameWithoutExtension(output);
        string extension = Path.GetExtension(output) is { Length: > 0 } given ? given : ".png";
        return [.. Enumerable.Range(1, count).Select(i => Path.Combine(directory, $"{stem}-{i}{extension}"))];
    }

    internal static void WarnTruncation(StableDiffusion3 pipeline, string what, string text)
    {
        if (Sd3CommandOptions.TruncationWarning(what, pipeline.TruncatedWords(text)) is { } warning)
            CliOutput.Warn(warning);
    }
}
