using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae sample</c>: decodes latents drawn from the prior.</summary>
internal static class VaeSampleCommand
{
    public static Command Create()
    {
        var command = new Command("sample",
            "Draw latents from the prior N(0, I) and decode them into a grid of new images (PNG).\n\nExamples:\n" +
            "  latentlab vae sample --count 64 --seed 3\n" +
            "  latentlab vae sample --model runs/fashion --count 100 --columns 10 --out samples.png");
        Option<string> model = VaeCliOptions.Model();
        Option<string?> output = VaeCliOptions.Out("PNG to write (default: samples.png in the run folder).");
        Option<int> count = CommonOptions.AtLeast("--count", 1, 64, "Images to draw.", maximum: 10_000);
        Option<int> columns = CommonOptions.AtLeast("--columns", 1, 8, "Images per row.", maximum: 1000);
        Option<int?> seed = CommonOptions.Seed();
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[] { model, output, count, columns, seed, force, device, threads })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction((parse, _) =>
        {
            string modelPath = parse.GetValue(model)!;
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            string path = VaeCliOptions.OutputPath(parse.GetValue(output), modelPath, "samples.png");
            ImageFiles.EnsureWritable(path, parse.GetValue(force));
            int seedValue = CommonOptions.ResolveSeed(parse.GetValue(seed));
            using var generator = new torch.Generator(unchecked((ulong)seedValue), torchDevice);
            using torch.Tensor samples = vae.Sample(parse.GetValue(count), generator);
            using torch.Tensor grid = ImageGrid.Compose(samples.cpu(), parse.GetValue(columns));
            ImageFiles.SavePng(path, grid, new Dictionary<string, string>
            {
                ["Software"] = "latentlab vae sample",
                ["Seed"] = seedValue.ToString(CultureInfo.InvariantCulture),
            }, overwrite: parse.GetValue(force));
            CliOutput.Line($"wrote {path} ({parse.GetValue(count)} samples, seed {seedValue})");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
