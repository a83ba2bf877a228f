using System.CommandLine;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Imaging;
using LatentLab.Vae;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae reconstruct</c>: originals above their reconstructions.</summary>
internal static class VaeReconstructCommand
{
    public static Command Create()
    {
        var command = new Command("reconstruct",
            "Encode images and decode their latent means: each row of originals is followed by its " +
            "reconstructions (PNG).\n\nExamples:\n" +
            "  latentlab vae reconstruct --count 10\n" +
            "  latentlab vae reconstruct --start 500 --count 20 --columns 10 --out recon.png");
        Option<string> model = VaeCliOptions.Model();
        VaeCliOptions.DataOptions data = VaeCliOptions.AddData(command, "test");
        Option<string?> output = VaeCliOptions.Out("PNG to write (default: reconstructions.png in the run folder).");
        Option<int> start = CommonOptions.AtLeast("--start", 0, 0, "Index of the first image.");
        Option<int> count = CommonOptions.AtLeast("--count", 1, 10, "Images to reconstruct.", maximum: 10_000);
        Option<int> columns = CommonOptions.AtLeast("--columns", 1, 10, "Images per row.", maximum: 1000);
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[] { model, output, start, count, columns, force, device, threads })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!;
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            string path = VaeCliOptions.OutputPath(parse.GetValue(output), modelPath, "reconstructions.png");
            ImageFiles.EnsureWritable(path, parse.GetValue(force));
            (ImageSet images, _) = await VaeCliOptions.LoadDataAsync(parse, data, cancellationToken)
                .ConfigureAwait(false);
            int first = parse.GetValue(start);
            int number = parse.GetValue(count);
            if (first + number > images.Count)
            {
                throw new UsageException($"--start {first} --count {number} goes past the {images.Count} images.");
            }
            using torch.Tensor originals = images.ToTensor(first, number);
            using torch.Tensor figure = VaeFigures.ReconstructionPairs(vae, originals, parse.GetValue(columns));
            var text = new Dictionary<string, string> { ["Software"] = "latentlab vae reconstruct" };
            ImageFiles.SavePng(path, figure, text,
                overwrite: parse.GetValue(force));
            CliOutput.Line($"wrote {path} (images {first} to {first + number - 1}, originals above reconstructions)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
