using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Diffusion;
using LatentLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary><c>latentlab diffusion reverse</c>: the reverse process as a picture, one row per image, one column per step.</summary>
internal static class DiffusionReverseCommand
{
    public static Command Create()
    {
        var sampling = new DiffusionSamplingOptions();
        Option<int> count = CommonOptions.AtLeast("--count", 1, 5, "Images (rows).");
        Option<string> output = new("--out")
        {
            Description = "PNG path.",
            DefaultValueFactory = _ => "diffusion-reverse.png",
        };
        var command = new Command("reverse", """
            Draw the reverse process: each row starts from pure noise (left) and ends at the sample (right); the
            columns between are the images after each step, re-noised to the next step's level.

            Example:
              latentlab diffusion reverse --checkpoint runs/fashion --count 4 --steps 10 --out reverse.png
            """);
        sampling.AddTo(command);
        command.Options.Add(count);
        command.Options.Add(output);
        command.SetGuardedAction((parse, cancellationToken) =>
        {
            string outPath = parse.GetValue(output)!;
            sampling.EnsureWritable(parse, outPath);
            (DiffusionModel model, Device device) = sampling.LoadModel(parse);
            using (model)
            {
                int seed = CommonOptions.ResolveSeed(parse.GetValue(sampling.Seed));
                int steps = parse.GetValue(sampling.Steps);
                int rows = parse.GetValue(count);
                using var scope = NewDisposeScope();
                using var generator = new Generator((ulong)seed);
                var frames = new List<Tensor>();
                model.Generate(model.InitialNoise(rows, generator, device), steps, frames);
                cancellationToken.ThrowIfCancellationRequested();
                // frames: steps + 1 of [rows, C, H, W] -> rows of (steps + 1) tiles, row-major.
                Tensor tiles = stack(frames.Select(frame => frame.cpu()).ToArray(), 1); // [rows, steps+1, C, H, W]
                tiles = tiles.flatten(0, 1); // [rows * (steps+1), C, H, W]
                ImageFiles.SavePng(outPath, ImageGrid.Compose(tiles, steps + 1), new Dictionary<string, string>
                {
                    ["latentlab"] = string.Create(CultureInfo.InvariantCulture, $"diffusion reverse seed={seed} steps={steps}"),
                }, parse.GetValue(sampling.Force));
                CliOutput.Line($"wrote {outPath} ({rows} rows x {steps + 1} columns, noise to sample, seed {seed})");
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
