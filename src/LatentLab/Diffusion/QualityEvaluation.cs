using LatentLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Measures generated images against real ones without downloaded networks: trains a <see cref="FeatureClassifier"/>
/// on labelled real images, then compares feature statistics (see <see cref="GenerativeMetrics"/>).
/// </summary>
public static class QualityEvaluation
{
    /// <summary>
    /// Trains a classifier on <paramref name="train"/> (labelled) with Adam (lr 1e-3, batch 128) for
    /// <paramref name="epochs"/> epochs and returns it with its accuracy on <paramref name="test"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Unlabelled images.</exception>
    public static (FeatureClassifier Classifier, double Accuracy) TrainClassifier(ImageSet train, ImageSet test,
        int epochs, long seed, IProgress<(int Epoch, int Step, int Steps)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Labels is null || test.Labels is null)
            throw new ArgumentException("quality evaluation needs labelled images (the MNIST family has labels).");
        int classCount = Math.Max(train.Labels.Max(), test.Labels.Max()) + 1;
        manual_seed(seed);
        var classifier = new FeatureClassifier(train.Channels, Math.Max(classCount, 2));
        using var optimizer = optim.Adam(classifier.parameters(), 1e-3);
        const int Batch = 128;
        int steps = train.Count / Batch;
        classifier.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            int[] order = DiffusionTrainer.Shuffle(train.Count, seed, epoch);
            for (int step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                ReadOnlySpan<int> indices = order.AsSpan(step * Batch, Batch);
                Tensor images = train.ToTensor(indices);
                Tensor labels = tensor(indices.ToArray().Select(index => (long)train.Labels[index]).ToArray());
                optimizer.zero_grad();
                Tensor loss = nn.functional.cross_entropy(classifier.forward(images), labels);
                loss.backward();
                optimizer.step();
                progress?.Report((epoch + 1, step + 1, steps));
            }
        }
        classifier.eval();
        long correct = 0;
        using (no_grad())
        {
            for (int start = 0; start < test.Count; start += 500)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(500, test.Count - start);
                Tensor predicted = classifier.forward(test.ToTensor(start, count)).argmax(1);
                Tensor labels = tensor(test.Labels.AsSpan(start, count).ToArray().Select(label => (long)label).ToArray());
                correct += predicted.eq(labels).sum().item<long>();
            }
        }
        return (classifier, (double)correct / test.Count);
    }

    /// <summary>Penultimate features [N, 128] of images [N, C, H, W] in [0, 1], in batches of 500.</summary>
    public static Tensor Features(FeatureClassifier classifier, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(images);
        classifier.eval();
        using var guard = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += 500)
            parts.Add(classifier.Features(images.narrow(0, start, Math.Min(500, images.shape[0] - start))));
        Tensor result = cat(parts, 0);
        foreach (Tensor part in parts) part.Dispose();
        return result;
    }

    /// <summary>
    /// The report for <paramref name="generated"/> images against <paramref name="reference"/> real ones, with the
    /// floor from <paramref name="heldOut"/> real ones; all three sets should have the same count.
    /// </summary>
    public static QualityReport Compare(FeatureClassifier classifier, double accuracy, Tensor reference, Tensor heldOut,
        Tensor generated, long seed)
    {
        using var scope = NewDisposeScope();
        Tensor referenceFeatures = Features(classifier, reference);
        Tensor heldOutFeatures = Features(classifier, heldOut);
        Tensor generatedFeatures = Features(classifier, generated);
        using var generator = new Generator((ulong)seed);
        int count = (int)Math.Min(reference.shape[0], Math.Min(heldOut.shape[0], generated.shape[0]));
        return new QualityReport(count, accuracy,
            GenerativeMetrics.FrechetDistance(referenceFeatures, heldOutFeatures),
            GenerativeMetrics.KernelDistance(referenceFeatures, heldOutFeatures, generator: generator),
            GenerativeMetrics.FrechetDistance(referenceFeatures, generatedFeatures),
            GenerativeMetrics.KernelDistance(referenceFeatures, generatedFeatures, generator: generator));
    }
}
