using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Imaging;
using LatentLab.Vae;
using SkiaSharp;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae grid</c>: the chapter's figure, images decoded over a grid of the 2-D latent.</summary>
internal static class VaeGridCommand
{
    public static Command Create()
    {
        var command = new Command("grid",
            "Decode a SIZE x SIZE grid of latent points over [-RANGE, RANGE]^2 into one PNG (30 x 30 tiles of " +
            "28 px: 840 x 840), the chapter's picture of a 2-D latent space.\n\nExamples:\n" +
            "  latentlab vae grid\n" +
            "  latentlab vae grid --model runs/fashion --size 20 --range 2 --labels --out fashion-grid.png");
        Option<string> model = VaeCliOptions.Model();
        Option<string?> output = VaeCliOptions.Out("PNG to write (default: grid.png in the run folder).");
        Option<int> size = CommonOptions.AtLeast("--size", 2, 30, "Tiles per side.", maximum: 200);
        var range = new Option<double>("--range")
        {
            Description = "Half-width of the latent square.",
            DefaultValueFactory = _ => 1.0,
        };
        range.Validators.Add(result =>
        {
            if (CommonOptions.ParsedValue<double>(result) is not { } value) return;
            if (!(value > 0 && double.IsFinite(value))) result.AddError($"--range must be positive (got {value}).");
        });
        var labels = new Option<bool>("--labels") { Description = "Draw axes with z values around the grid." };
        Option<bool> force = CommonOptions.Force();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[] { model, output, size, range, labels, force, device, threads })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction((parse, _) =>
        {
            string modelPath = parse.GetValue(model)!;
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            string path = VaeCliOptions.OutputPath(parse.GetValue(output), modelPath, "grid.png");
            ImageFiles.EnsureWritable(path, parse.GetValue(force));
            if (vae.Config.LatentDim != 2)
            {
                throw new UsageException($"vae grid needs a 2-D latent; {modelPath} has latent_dim " +
                                         $"{vae.Config.LatentDim} (use 'vae sample' instead).");
            }
            int tiles = parse.GetValue(size);
            double halfWidth = parse.GetValue(range);
            using torch.Tensor grid = VaeFigures.LatentGrid(vae, tiles, halfWidth);
            var text = new Dictionary<string, string>
            {
                ["Software"] = "latentlab vae grid",
                ["Model"] = Path.GetFullPath(modelPath),
                ["Range"] = halfWidth.ToString(CultureInfo.InvariantCulture),
            };
            if (parse.GetValue(labels))
            {
                using SKBitmap figure = LatentPlots.GridWithAxes(grid, tiles, halfWidth);
                ImageFiles.SavePng(path, figure, text, overwrite: parse.GetValue(force));
            }
            else
            {
                ImageFiles.SavePng(path, grid, text, overwrite: parse.GetValue(force));
            }
            CliOutput.Line($"wrote {path} ({tiles}x{tiles} tiles over z in [-{halfWidth}, {halfWidth}]^2)");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
