using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Diffusion;
using LatentLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary><c>latentlab diffusion interpolate</c>: spherical interpolation between two initial noises.</summary>
internal static class DiffusionInterpolateCommand
{
    public static Command Create()
    {
        var sampling = new DiffusionSamplingOptions();
        Option<int?> otherSeed = new("--seed-b")
        {
            Description = "Seed of the second noise (default: --seed + 1).",
        };
        Option<int> frames = CommonOptions.AtLeast("--frames", 2, 9, "Points along the path, endpoints included.");
        Option<int> delay = CommonOptions.AtLeast("--frame-delay", 1, 150, "Animation frame time in milliseconds.");
        Option<string> output = new("--out")
        {
            Description = "Strip PNG path; the animation goes beside it with .gif.",
            DefaultValueFactory = _ => "diffusion-interpolation.png",
        };
        var command = new Command("interpolate", """
            Interpolate spherically between two initial noises (seeds --seed and --seed-b) and decode each point:
            a strip PNG and a looping GIF. Spherical, because a straight line between two Gaussian noises passes
            through noise of too small a norm, which the model never saw.

            Example:
              latentlab diffusion interpolate --checkpoint runs/fashion --seed 3 --seed-b 8 --frames 11 --out walk.png
            """);
        sampling.AddTo(command);
        command.Options.Add(otherSeed);
        command.Options.Add(frames);
        command.Options.Add(delay);
        command.Options.Add(output);
        command.SetGuardedAction((parse, cancellationToken) =>
        {
            string stripPath = parse.GetValue(output)!;
            string gifPath = Path.ChangeExtension(stripPath, ".gif");
            sampling.EnsureWritable(parse, stripPath);
            sampling.EnsureWritable(parse, gifPath);
            (DiffusionModel model, Device device) = sampling.LoadModel(parse);
            using (model)
            {
                int seedA = CommonOptions.ResolveSeed(parse.GetValue(sampling.Seed));
                int seedB = parse.GetValue(otherSeed) ?? seedA + 1;
                int points = parse.GetValue(frames);
                int steps = parse.GetValue(sampling.Steps);
                using var scope = NewDisposeScope();
                using var generatorA = new Generator((ulong)seedA);
                using var generatorB = new Generator((ulong)seedB);
                Tensor noiseA = model.InitialNoise(1, generatorA);
                Tensor noiseB = model.InitialNoise(1, generatorB);
                Tensor path = cat(Enumerable.Range(0, points)
                    .Select(i => DiffusionModel.Slerp(noiseA, noiseB, (double)i / (points - 1))).ToArray(), 0); // [P, C, H, W]
                Tensor images = DiffusionGenerateCommand.Generate(model, path.to(device), steps, cancellationToken);
                bool force = parse.GetValue(sampling.Force);
                var text = new Dictionary<string, string>
                {
                    ["latentlab"] = string.Create(CultureInfo.InvariantCulture,
                        $"diffusion interpolate seed={seedA} seed-b={seedB} frames={points} steps={steps}"),
                };
                ImageFiles.SavePng(stripPath, ImageGrid.Compose(images, points), text, force);
                Tensor[] animation = [.. Enumerable.Range(0, points).Select(i => images[i]),
                    .. Enumerable.Range(1, points - 2).Reverse().Select(i => images[i])];
                AnimationFiles.SaveGif(gifPath, animation, parse.GetValue(delay), force);
                CliOutput.Line($"wrote {stripPath} and {gifPath} (seeds {seedA} -> {seedB}, {points} points)");
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
