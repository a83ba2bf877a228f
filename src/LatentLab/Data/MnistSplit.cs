namespace LatentLab.Data;

/// <summary>Which part of an MNIST-family dataset to load.</summary>
public enum MnistSplit
{
    /// <summary>The 60,000 training images.</summary>
    Train,

    /// <summary>The 10,000 test images, the held-out split for evaluation.</summary>
    Test,

    /// <summary>
    /// Train and test concatenated, in that order (70,000 images): what the reference chapter trains on.
    /// For the bundled data, which holds only the test split, this is those 10,000 images.
    /// </summary>
    All,
}
