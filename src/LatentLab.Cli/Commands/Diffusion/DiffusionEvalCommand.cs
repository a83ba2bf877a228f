using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.Data;
using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary>
/// <c>latentlab diffusion eval</c>: Fréchet and kernel distances on a self-trained classifier's features, for
/// generated images and, as the floor, for held-out real images.
/// </summary>
internal static class DiffusionEvalCommand
{
    public static Command Create()
    {
        var sampling = new DiffusionSamplingOptions();
        var data = new DiffusionDataOptions();
        Option<int> count = CommonOptions.AtLeast("--count", 100, 1000,
            "Images per set (real, held-out real, generated); the Fréchet distance depends on it, so compare figures " +
            "made with the same count.");
        Option<int> classifierEpochs = CommonOptions.AtLeast("--classifier-epochs", 1, 3,
            "Epochs for the feature classifier trained on the labelled real images that are not in either set.");
        var command = new Command("eval", """
            Measure a trained model without downloaded networks: a small classifier is trained on the real images'
            labels (the MNIST family, or --images DIR with one subfolder per class), and the Fréchet distance and the kernel distance (KID, unbiased, cubic kernel)
            are computed on its penultimate features between real images and (a) other real images: the floor,
            (b) generated images. Lower is better; a perfect model scores near the floor.

            Example:
              latentlab diffusion eval --checkpoint runs/fashion --count 1000 --seed 0
            """);
        sampling.AddTo(command);
        data.AddTo(command);
        command.Options.Add(count);
        command.Options.Add(classifierEpochs);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            (DiffusionModel model, Device device) = sampling.LoadModel(parse);
            using (model)
            {
                int seed = CommonOptions.ResolveSeed(parse.GetValue(sampling.Seed));
                int number = parse.GetValue(count);
                int steps = parse.GetValue(sampling.Steps);
                ImageSet real = await data.LoadAsync(parse, model.Config.ImageSize, MnistSplit.All, cancellationToken,
                    labelled: true);
                if (real.Labels is null)
                {
                    throw new UsageException(
                        "eval needs labelled images to train its feature classifier: the MNIST family (the default) or " +
                        "--images DIR with one subfolder per class.");
                }
                if (real.Channels != model.Config.Channels)
                    throw new UsageException($"the model makes {model.Config.Channels}-channel images; this data has {real.Channels}.");
                if (real.Count < 3 * number)
                {
                    throw new UsageException(FormattableString.Invariant(
                        $"--count {number}: the data has {real.Count} images; it needs 3 x count (two real sets and the classifier's)."));
                }

                // Two disjoint real sets; the rest trains the classifier.
                int[] order = DiffusionTrainer.Shuffle(real.Count, seed, 0);
                ImageSet Pick(int start, int length)
                {
                    using Tensor images = real.ToTensor(order.AsSpan(start, length));
                    byte[] pixels = images.mul(255).round().to(uint8).contiguous().data<byte>().ToArray();
                    byte[] labels = order.Skip(start).Take(length).Select(index => real.Labels![index]).ToArray();
                    return new ImageSet(pixels, length, real.Channels, real.Height, real.Width, labels, real.ClassNames);
                }
                ImageSet reference = Pick(0, number), heldOut = Pick(number, number);
                ImageSet train = Pick(2 * number, real.Count - 2 * number);
                CliOutput.Summary("diffusion eval", [
                    ("data", $"{data.Describe(parse)}: {number} reference, {number} held-out, {train.Count} for the classifier"),
                    ("generated", $"{number} images, {steps} steps, seed {seed}"),
                    ("checkpoint", parse.GetValue(sampling.Checkpoint)!),
                ]);

                int epochs = parse.GetValue(classifierEpochs);
                FeatureClassifier classifier;
                double accuracy;
                using (ConsoleProgress bar = ConsoleProgress.Start("feature classifier", (long)epochs * (train.Count / 128)))
                {
                    var progress = new InlineProgress<(int Epoch, int Step, int Steps)>(update =>
                        bar.Report((long)(update.Epoch - 1) * update.Steps + update.Step, $"epoch {update.Epoch}/{epochs}"));
                    (classifier, accuracy) = await Task.Run(() => QualityEvaluation.TrainClassifier(train, heldOut, epochs,
                        seed, progress, cancellationToken), cancellationToken);
                }
                using (classifier)
                using (var scope = NewDisposeScope())
                using (var generator = new Generator((ulong)seed))
                {
                    Tensor generated = DiffusionGenerateCommand.Generate(model, model.InitialNoise(number, generator, device),
                        steps, cancellationToken);
                    QualityReport report = QualityEvaluation.Compare(classifier, accuracy, reference.ToTensor(0, number),
                        heldOut.ToTensor(0, number), generated, seed);
                    CliOutput.Line(FormattableString.Invariant($"classifier accuracy on held-out real: {report.ClassifierAccuracy:P1}"));
                    CliOutput.Line(FormattableString.Invariant(
                        $"{"",-30}{"Fréchet",14}{"KID x 1000",16}   ({report.Count} images per set)"));
                    CliOutput.Line(FormattableString.Invariant(
                        $"{"real vs held-out real (floor)",-30}{report.RealFrechet,14:F3}{report.RealKernel * 1000,16:F1}"));
                    CliOutput.Line(FormattableString.Invariant(
                        $"{"real vs generated",-30}{report.GeneratedFrechet,14:F3}{report.GeneratedKernel * 1000,16:F1}"));
                }
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
