namespace LatentLab.Data;

/// <summary>
/// One dataset of the MNIST family: four IDX files (train and test images and labels) at public addresses with
/// known SHA-256 digests, 28x28 grayscale images and ten classes.
/// </summary>
/// <param name="Name">The name used on the command line, e.g. <c>fashion-mnist</c>.</param>
/// <param name="ClassNames">The ten class names, indexed by label.</param>
/// <param name="TrainImages">The 60,000 training images, <c>train-images-idx3-ubyte.gz</c>.</param>
/// <param name="TrainLabels">Their labels, <c>train-labels-idx1-ubyte.gz</c>.</param>
/// <param name="TestImages">The 10,000 test images, <c>t10k-images-idx3-ubyte.gz</c>.</param>
/// <param name="TestLabels">Their labels, <c>t10k-labels-idx1-ubyte.gz</c>.</param>
public sealed record MnistDataset(
    string Name,
    IReadOnlyList<string> ClassNames,
    RemoteFile TrainImages,
    RemoteFile TrainLabels,
    RemoteFile TestImages,
    RemoteFile TestLabels)
{
    /// <summary>Image side length in pixels; every MNIST-family image is 28x28 with one channel.</summary>
    public const int ImageSize = 28;
}
