using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// A small convolutional classifier whose penultimate layer serves as the feature space for Fréchet and kernel
/// distances, in place of Inception (whose weights cannot be had offline). Two 3x3 conv + ReLU + 2x2 max-pool
/// stages (32, 64 channels), adaptive average pooling to 4x4, a 128-wide dense layer with ReLU (the features),
/// and a dense layer to the classes. Input [B, C, H, W] in [0, 1], any H, W of at least 4.
/// </summary>
public sealed class FeatureClassifier : nn.Module<Tensor, Tensor>
{
    /// <summary>Width of the feature vector.</summary>
    public const int FeatureWidth = 128;

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear features;
    private readonly Linear classes;

    /// <summary>Creates an untrained classifier (weights from torch's global generator).</summary>
    public FeatureClassifier(int channels, int classCount) : base(nameof(FeatureClassifier))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        conv1 = nn.Conv2d(channels, 32, 3, padding: 1);
        conv2 = nn.Conv2d(32, 64, 3, padding: 1);
        features = nn.Linear(64 * 4 * 4, FeatureWidth);
        classes = nn.Linear(FeatureWidth, classCount);
        RegisterComponents();
    }

    /// <summary>Class logits [B, classes].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return classes.forward(Features(images)).MoveToOuterDisposeScope();
    }

    /// <summary>The penultimate activations [B, 128].</summary>
    public Tensor Features(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        Tensor x = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(images)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);
        x = nn.functional.adaptive_avg_pool2d(x, [4, 4]).flatten(1); // [B, 64 * 16]
        return nn.functional.relu(features.forward(x)).MoveToOuterDisposeScope();
    }
}
