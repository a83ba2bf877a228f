using System.CommandLine;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Vae;
using SkiaSharp;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae scatter</c>: encoded images' z_mean, coloured by label.</summary>
internal static class VaeScatterCommand
{
    public static Command Create()
    {
        var command = new Command("scatter",
            "Plot the latent means of labelled images, coloured by class, with a legend (PNG). With more than two " +
            "latent dimensions, the first two are drawn.\n\nExamples:\n" +
            "  latentlab vae scatter\n" +
            "  latentlab vae scatter --model runs/fashion --data-dir /usr/share/datasets/fashion-mnist --limit 5000");
        Option<string> model = VaeCliOptions.Model();
        VaeCliOptions.DataOptions data = VaeCliOptions.AddData(command, "test");
        Option<string?> output = VaeCliOptions.Out("PNG to write (default: scatter.png in the run folder).");
        Option<int> limit = CommonOptions.AtLeast("--limit", 1, 10_000, "Plot at most this many images (the first).");
        Option<int> size = CommonOptions.AtLeast("--size", 200, 720, "Plot area in pixels (square).");
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[] { model, output, limit, size, force, device, threads })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!;
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            string path = VaeCliOptions.OutputPath(parse.GetValue(output), modelPath, "scatter.png");
            ImageFiles.EnsureWritable(path, parse.GetValue(force));
            (ImageSet images, string description) =
                await VaeCliOptions.LoadDataAsync(parse, data, cancellationToken).ConfigureAwait(false);
            if (images.Labels is null) throw new UsageException("vae scatter needs labelled images.");
            if (vae.Config.LatentDim < 2)
            {
                throw new UsageException($"vae scatter needs at least 2 latent dimensions; {modelPath} has 1.");
            }
            if (vae.Config.LatentDim > 2)
            {
                CliOutput.Warn($"the latent has {vae.Config.LatentDim} dimensions; plotting the first two.");
            }
            int count = Math.Min(parse.GetValue(limit), images.Count);

            // Encode in batches; only the means are kept.
            var means = new List<torch.Tensor>();
            for (int start = 0; start < count; start += 500)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using torch.Tensor batch = images.ToTensor(start, Math.Min(500, count - start));
                (torch.Tensor mean, torch.Tensor logVar) = vae.Encode(batch);
                logVar.Dispose();
                means.Add(mean.narrow(1, 0, 2).cpu());
                mean.Dispose();
            }
            using torch.Tensor points = torch.cat(means); // [N, 2]
            foreach (torch.Tensor mean in means) mean.Dispose();
            byte[] labels = images.Labels.AsSpan(0, count).ToArray();
            using SKBitmap plot = LatentPlots.Scatter(points, labels, images.ClassNames, parse.GetValue(size));
            ImageFiles.SavePng(path, plot, new Dictionary<string, string>
            {
                ["Software"] = "latentlab vae scatter",
                ["Data"] = description,
            }, overwrite: parse.GetValue(force));
            CliOutput.Line($"wrote {path} ({count} images of {description})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
