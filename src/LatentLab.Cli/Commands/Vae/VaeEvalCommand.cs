using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Vae;
using TorchSharp;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Cli.Commands.Vae;

/// <summary><c>latentlab vae eval</c>: negative ELBO and importance-weighted NLL on held-out images.</summary>
internal static class VaeEvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval",
            "Measure a trained VAE on held-out images: the negative ELBO in nats per image with its two parts " +
            "(reconstruction and KL), and the importance-weighted estimate of the negative log-likelihood with k " +
            "samples (Burda et al. 2016), a tighter bound.\n\nExamples:\n" +
            "  latentlab vae eval --model runs/fashion --data-dir /usr/share/datasets/fashion-mnist\n" +
            "  latentlab vae eval --samples 500 --limit 1000 --seed 1");
        Option<string> model = VaeCliOptions.Model();
        VaeCliOptions.DataOptions data = VaeCliOptions.AddData(command, "test");
        Option<int> samples = CommonOptions.AtLeast("--samples", 1, 100, "k, importance samples per image.");
        Option<int> batchSize = CommonOptions.AtLeast("--batch-size", 1, 256, "Images per batch.");
        Option<int> limit = CommonOptions.AtLeast("--limit", 1, int.MaxValue, "Evaluate at most this many images.");
        Option<int?> seed = CommonOptions.Seed();
        Option<string> device = CommonOptions.Device();
        Option<int> threads = CommonOptions.Threads();
        foreach (Option option in new Option[] { model, samples, batchSize, limit, seed, device, threads })
        {
            command.Options.Add(option);
        }

        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!;
            torch.Device torchDevice = VaeCliOptions.Setup(parse, device, threads);
            using VaeModel vae = VaeCliOptions.LoadModel(modelPath, torchDevice);
            (ImageSet images, string description) =
                await VaeCliOptions.LoadDataAsync(parse, data, cancellationToken).ConfigureAwait(false);
            if (VaeCliOptions.IsBundled(parse, data))
            {
                CliOutput.Warn("the bundled data has a single split, the one 'vae train' uses by default; for " +
                               "held-out figures use --dataset or --data-dir with --split test.");
            }
            int count = Math.Min(parse.GetValue(limit), images.Count);
            if (count < images.Count) description += $", first {count}";
            if (count < images.Count) images = images.Slice(0, count);
            int k = parse.GetValue(samples);
            int seedValue = CommonOptions.ResolveSeed(parse.GetValue(seed));
            CliOutput.Summary("latentlab vae eval",
            [
                ("model", Path.GetFullPath(modelPath)),
                ("data", description),
                ("importance samples", k.ToString(CultureInfo.InvariantCulture)),
                ("device", $"{torchDevice}, {torch.get_num_threads()} thread(s)"),
                ("seed", seedValue.ToString(CultureInfo.InvariantCulture)),
            ]);

            VaeEvaluation result;
            using (var bar = ConsoleProgress.Start("evaluating", images.Count))
            {
                var progress = new Progress<int>(done => bar.Report(done));
                result = await Task.Run(() => VaeEvaluator.Evaluate(vae, images, k, parse.GetValue(batchSize),
                    seedValue, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            double bitsPerDim = 1 / (Math.Log(2) * images.Channels * images.Height * images.Width);
            CliOutput.Line(string.Create(CultureInfo.InvariantCulture,
                $"negative_elbo={result.NegativeElbo:F2} nats/image (reconstruction={result.Reconstruction:F2} " +
                $"kl={result.Kl:F2}; {result.NegativeElbo * bitsPerDim:F4} bits/dim)"));
            CliOutput.Line(string.Create(CultureInfo.InvariantCulture,
                $"importance_weighted_nll={result.ImportanceWeightedNll:F2} nats/image (k={k}; " +
                $"{result.ImportanceWeightedNll * bitsPerDim:F4} bits/dim) over {result.Images} images"));
            return ExitCodes.Ok;
        });
        return command;
    }
}
