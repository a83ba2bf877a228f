using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Diffusion;
using LatentLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary><c>latentlab diffusion generate</c>: new images from pure noise, as a grid or separate files.</summary>
internal static class DiffusionGenerateCommand
{
    public static Command Create()
    {
        var sampling = new DiffusionSamplingOptions();
        Option<int> count = CommonOptions.AtLeast("--count", 1, 18, "Images to generate.");
        Option<int> columns = CommonOptions.AtLeast("--columns", 1, 6, "Columns of the grid.");
        Option<bool> separate = new("--separate")
        {
            Description = "Write one PNG per image into the --out folder (image_0001.png, ...) instead of a grid.",
        };
        Option<string> output = new("--out")
        {
            Description = "Grid PNG path, or a folder with --separate.",
            DefaultValueFactory = _ => "diffusion-samples.png",
        };
        var command = new Command("generate", """
            Generate images from pure noise with a trained model (the chapter's deterministic reverse process).

            Examples:
              latentlab diffusion generate --checkpoint runs/fashion --count 36 --columns 9 --seed 1 --out grid.png
              latentlab diffusion generate --checkpoint runs/flowers --count 10 --separate --out samples/
            """);
        sampling.AddTo(command);
        command.Options.Add(count);
        command.Options.Add(columns);
        command.Options.Add(separate);
        command.Options.Add(output);

        command.SetGuardedAction((parse, cancellationToken) =>
        {
            string outPath = parse.GetValue(output)!;
            bool asFiles = parse.GetValue(separate);
            int number = parse.GetValue(count);
            if (asFiles)
            {
                for (int i = 1; i <= number; i++)
                    sampling.EnsureWritable(parse, Path.Combine(outPath, FileName(i)));
            }
            else
            {
                sampling.EnsureWritable(parse, outPath);
            }
            (DiffusionModel model, Device device) = sampling.LoadModel(parse);
            using (model)
            {
                int seed = CommonOptions.ResolveSeed(parse.GetValue(sampling.Seed));
                int steps = parse.GetValue(sampling.Steps);
                CliOutput.Line(string.Create(CultureInfo.InvariantCulture,
                    $"generating {number} images of {model.Config.ImageSize}x{model.Config.ImageSize} in {steps} steps, seed {seed}"));
                using var scope = NewDisposeScope();
                using var generator = new Generator((ulong)seed);
                Tensor images = Generate(model, model.InitialNoise(number, generator, device), steps, cancellationToken);
                var text = new Dictionary<string, string>
                {
                    ["latentlab"] = string.Create(CultureInfo.InvariantCulture, $"diffusion generate seed={seed} steps={steps}"),
                };
                bool force = parse.GetValue(sampling.Force);
                if (asFiles)
                {
                    Directory.CreateDirectory(outPath);
                    for (int i = 0; i < number; i++)
                        ImageFiles.SavePng(Path.Combine(outPath, FileName(i + 1)), images[i], text, force);
                    CliOutput.Line($"wrote {number} images to {outPath}");
                }
                else
                {
                    ImageFiles.SavePng(outPath, ImageGrid.Compose(images, parse.GetValue(columns)), text, force);
                    CliOutput.Line($"wrote {outPath}");
                }
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>Generates in chunks of 64 so large counts stay within memory, with a progress bar.</summary>
    internal static Tensor Generate(DiffusionModel model, Tensor noise, int steps, CancellationToken cancellationToken)
    {
        const int Chunk = 64;
        long total = noise.shape[0];
        var parts = new List<Tensor>();
        using (ConsoleProgress bar = ConsoleProgress.Start("sampling", total))
        {
            for (long start = 0; start < total; start += Chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long length = Math.Min(Chunk, total - start);
                parts.Add(model.Generate(noise.narrow(0, start, length), steps).cpu());
                bar.Report(start + length);
            }
        }
        return cat(parts, 0); // [N, C, H, W]
    }

    private static string FileName(int index) =>
        string.Create(CultureInfo.InvariantCulture, $"image_{index:D4}.png");
}
