namespace LatentLab.Diffusion;

/// <summary>
/// Fréchet distance and kernel distance (×1000 is customary for KID) on the feature classifier's penultimate layer:
/// between two disjoint sets of real images (the floor: what a perfect generator would score at this count) and
/// between real and generated images. <see cref="Count"/> images per set; the Fréchet distance depends on it.
/// </summary>
public sealed record QualityReport(int Count, double ClassifierAccuracy, double RealFrechet, double RealKernel,
    double GeneratedFrechet, double GeneratedKernel);
