using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.StableDiffusion.Pipeline;
using SkiaSharp;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>
/// <c>latentlab steps "PROMPT" --steps 5,10,15,20,25</c>: the chapter's figure, one seed denoised with several step
/// counts, side by side in one labelled PNG.
/// </summary>
internal static class StepsCommand
{
    private const int Padding = 8;
    private const int LabelHeight = 28;

    public static Command Create()
    {
        var shared = new Sd3CommandOptions();
        var steps = new Option<string>("--steps")
        {
            Description = "Comma-separated step counts, one picture each.",
            DefaultValueFactory = _ => "5,10,15,20,25",
        };
        var output = new Option<string?>("--out") { Description = "PNG file to write (default sd3-steps-SEED.png)." };
        var command = new Command("steps", "Show one seed at several step counts side by side (Stable Diffusion 3).");
        shared.AddTo(command);
        command.Options.Add(steps);
        command.Options.Add(output);
        command.SetGuardedAction((parsed, cancellationToken) => Task.FromResult(
            Run(parsed, shared, parsed.GetValue(steps)!, parsed.GetValue(output), cancellationToken)));
        return command;
    }

    /// <summary>Parses "5,10,15": positive integers, at least one.</summary>
    internal static int[] ParseStepCounts(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var counts = new List<int>();
        foreach (string part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
                throw new UsageException($"--steps must be comma-separated step counts of at least 1, e.g. 5,10,15 (got '{text}').");
            counts.Add(count);
        }
        if (counts.Count == 0) throw new UsageException($"--steps needs at least one step count (got '{text}').");
        return [.. counts];
    }

    private static int Run(ParseResult parsed, Sd3CommandOptions shared, string stepsText, string? output,
        CancellationToken cancellationToken)
    {
        // 1. Validate everything before loading.
        string prompt = parsed.GetValue(shared.Prompt)!;
        string negative = parsed.GetValue(shared.Negative)!;
        int[] stepCounts = ParseStepCounts(stepsText);
        (int width, int height) = Sd3CommandOptions.ParseSize(parsed.GetValue(shared.Size)!);
        double guidance = shared.ValidatedGuidance(parsed);
        StableDiffusion3Options options = shared.PipelineOptions(parsed);
        bool overwrite = parsed.GetValue(shared.Force);
        string? modelFolder = shared.ResolveModel(parsed);
        if (modelFolder is null) return Sd3CommandOptions.ExplainMissingModel();
        int seed = CommonOptions.ResolveSeed(parsed.GetValue(shared.Seed));
        string path = output ?? $"sd3-steps-{seed}.png";
        ImageFiles.EnsureWritable(path, overwrite);
        CommonOptions.ApplyThreads(parsed.GetValue(shared.Threads));

        CliOutput.Summary("Stable Diffusion 3: steps",
        [
            ("model", modelFolder), ("prompt", prompt), ("steps", string.Join(", ", stepCounts)),
            ("guidance", guidance.ToString("G", CultureInfo.InvariantCulture)),
            ("seed", seed.ToString(CultureInfo.InvariantCulture)), ("size", $"{width}x{height}"),
            ("dtype", options.DType.ToString()), ("T5", options.UseT5 ? "on" : "off"), ("device", options.Device),
        ]);

        // 2. One encoding, then one run per step count from the same seed.
        using StableDiffusion3 pipeline = shared.OpenPipeline(parsed, modelFolder, options);
        GenerateCommand.WarnTruncation(pipeline, "prompt", prompt);
        GenerateCommand.WarnTruncation(pipeline, "negative prompt", negative);
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(prompt, negative);
        pipeline.ReleaseTextEncoders(); // the prompts are encoded once; free the encoders before the transformer loads
        using var scope = torch.NewDisposeScope();
        var pictures = new List<torch.Tensor>();
        using (ConsoleProgress bar = ConsoleProgress.Start("steps", stepCounts.Sum()))
        {
            int done = 0;
            foreach (int numSteps in stepCounts)
            {
                var progress = new ActionProgress<Sd3StepProgress>(report => bar.Report(done + report.Step,
                    string.Create(CultureInfo.InvariantCulture,
                        $"{numSteps} steps: {report.Elapsed.TotalSeconds / report.Step:F2} s/step")));
                using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, numSteps, guidance, seed,
                    width, height, progress: progress, cancellationToken: cancellationToken);
                pictures.Add(result.Images[0].clone());
                done += numSteps;
            }
            bar.Complete();
        }

        // 3. A row of pictures under their step counts.
        torch.Tensor row = ImageGrid.Compose(torch.stack(pictures), columns: pictures.Count, padding: Padding);
        using SKBitmap labelled = Label(ImageTensors.ToBitmap(row), stepCounts, width);
        string parameters = Sd3CommandOptions.ParametersText(prompt, negative, stepCounts[^1], guidance, seed, width,
            height, Sd3CommandOptions.ModelName(modelFolder)) + $", Step counts: {string.Join(" ", stepCounts)}";
        ImageFiles.SavePng(path, labelled, new Dictionary<string, string> { ["parameters"] = parameters }, overwrite);
        CliOutput.Line($"steps {string.Join(",", stepCounts)}: seed {seed} -> {path}");
        return ExitCodes.Ok;
    }

    /// <summary>Adds a white band above the row with "N steps" centred over each picture.</summary>
    private static SKBitmap Label(SKBitmap row, int[] stepCounts, int tileWidth)
    {
        using (row)
        {
            var labelled = new SKBitmap(row.Width, row.Height + LabelHeight);
            using var canvas = new SKCanvas(labelled);
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(row, 0, LabelHeight);
            using var font = new SKFont(SKTypeface.Default, 16);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (int i = 0; i < stepCounts.Length; i++)
            {
                string text = stepCounts[i] == 1 ? "1 step" : $"{stepCounts[i]} steps";
                float centre = i * (tileWidth + Padding) + tileWidth / 2f;
                canvas.DrawText(text, centre, LabelHeight - 8, SKTextAlign.Center, font, paint);
            }
            return labelled;
        }
    }
}
