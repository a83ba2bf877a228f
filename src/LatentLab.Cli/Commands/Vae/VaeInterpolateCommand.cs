using System.CommandLine;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Vae;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae interpolate</c>: a straight walk in latent space, as a GIF and a strip.</summary>
internal static class VaeInterpolateCommand
{
    public static Command Create()
    {
        var command = new Command("interpolate",
            "Walk in a straight line through latent space between two images (their latent means) or two points, " +
            "and write the decoded steps as an animated GIF and a PNG strip.\n\nExamples:\n" +
            "  latentlab vae interpolate --from 0 --to 1\n" +
            "  latentlab vae interpolate --from-z=-1,-1 --to-z=1,1 --steps 16 --out walk");
        Option<string> model = VaeCliOptions.Model();
        VaeCliOptions.DataOptions data = VaeCliOptions.AddData(command, "test");
        Option<string?> output = VaeCliOptions.Out(
            "Output path without extension; .gif and .png are added (default: interpolation in the run folder).");
        var fromIndex = new Option<int?>("--from") { Description = "Index of the start image in the data." };
        var toIndex = new Option<int?>("--to") { Description = "Index of the end image in the data." };
        var fromPoint = new Option<string?>("--from-z") { Description = "Start point, e.g. -1,0.5 (or --from)." };
        var toPoint = new Option<string?>("--to-z") { Description = "End point (instead of --to)." };
        Option<int> steps = CommonOptions.AtLeast("--steps", 2, 10, "Images along the way, both ends included.", maximum: 1000);
        Option<int> scale = CommonOptions.AtLeast("--scale", 1, 4, "Enlarge the GIF frames by this factor.", maximum: 32);
        Option<int> frameMs = CommonOptions.AtLeast("--frame-ms", 10, 120, "GIF frame duration in milliseconds.");
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[]
                 {
                     model, output, fromIndex, toIndex, fromPoint, toPoint, steps, scale, frameMs, force, device,
                     threads,
                 })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!;
            (int? fromImage, int? toImage) = (parse.GetValue(fromIndex), parse.GetValue(toIndex));
            (string? fromZ, string? toZ) = (parse.GetValue(fromPoint), parse.GetValue(toPoint));
            if ((fromImage is null) == (fromZ is null) || (toImage is null) == (toZ is null))
            {
                throw new UsageException("give each end once: --from INDEX or --from-z POINT, and --to INDEX or " +
                                         "--to-z POINT.");
            }
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            string basePath = VaeCliOptions.OutputPath(parse.GetValue(output), modelPath, "interpolation");
            // "--out walk.gif" means the pair walk.gif + walk.png, not walk.gif.gif.
            if (Path.GetExtension(basePath).ToUpperInvariant() is ".GIF" or ".PNG")
                basePath = Path.ChangeExtension(basePath, null);
            (string gifPath, string pngPath) = (basePath + ".gif", basePath + ".png");
            ImageFiles.EnsureWritable(gifPath, parse.GetValue(force));
            ImageFiles.EnsureWritable(pngPath, parse.GetValue(force));

            ImageSet? images = null;
            if (fromImage is not null || toImage is not null)
            {
                (images, _) = await VaeCliOptions.LoadDataAsync(parse, data, cancellationToken).ConfigureAwait(false);
            }
            using torch.Tensor start = Endpoint(vae, images, fromImage, fromZ, "--from");
            using torch.Tensor end = Endpoint(vae, images, toImage, toZ, "--to");

            int count = parse.GetValue(steps);
            using torch.Tensor frames = VaeFigures.Interpolate(vae, start, end, count); // [steps, C, H, W]
            int factor = parse.GetValue(scale);
            using torch.Tensor enlarged = factor == 1
                ? frames.alias()
                : frames.repeat_interleave(factor, 2).repeat_interleave(factor, 3);
            // Forth and back, so the loop does not jump.
            var gifFrames = new List<torch.Tensor>();
            for (int i = 0; i < count; i++) gifFrames.Add(enlarged[i]);
            for (int i = count - 2; i > 0; i--) gifFrames.Add(enlarged[i]);
            AnimationFiles.SaveGif(gifPath, gifFrames, parse.GetValue(frameMs), overwrite: parse.GetValue(force));
            foreach (torch.Tensor frame in gifFrames) frame.Dispose();
            using torch.Tensor strip = ImageGrid.Compose(frames, count);
            ImageFiles.SavePng(pngPath, strip, new Dictionary<string, string>
            {
                ["Software"] = "latentlab vae interpolate",
            }, overwrite: parse.GetValue(force));
            CliOutput.Line($"wrote {gifPath} and {pngPath} ({count} steps)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static torch.Tensor Endpoint(VaeModel vae, ImageSet? images, int? index, string? point, string option)
    {
        if (point is not null)
        {
            float[] values = VaeCliOptions.ParsePoint(option + "-z", point, vae.Config.LatentDim);
            return torch.tensor(values).to(vae.Device);
        }
        if ((uint)index!.Value >= (uint)images!.Count)
        {
            throw new UsageException($"{option} {index} is not an image index (0 to {images.Count - 1}).");
        }
        using torch.Tensor image = images.ToTensor(index.Value, 1);
        (torch.Tensor mean, torch.Tensor logVar) = vae.Encode(image);
        logVar.Dispose();
        using (mean)
        {
            return mean[0].clone();
        }
    }
}
