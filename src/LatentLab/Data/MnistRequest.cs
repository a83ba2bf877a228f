namespace LatentLab.Data;

/// <summary>Where to load an MNIST-family dataset from, and which split.</summary>
/// <param name="Dataset">
/// <c>mnist</c> or <c>fashion-mnist</c>; null means the Fashion-MNIST test split bundled with LatentLab
/// (or, with <paramref name="DataDirectory"/>, Fashion-MNIST's class names).
/// </param>
/// <param name="DataDirectory">
/// A folder holding the IDX files (gzip or raw, e.g. Debian's <c>/usr/share/datasets/fashion-mnist</c>); when set,
/// nothing is downloaded.
/// </param>
/// <param name="CacheDirectory">
/// Download cache root; null means <see cref="DataCache.ResolveRoot"/>'s default ($LATENTLAB_DATA or
/// ~/.latentlab/datasets). Files go to <c>&lt;root&gt;/&lt;dataset&gt;/</c>.
/// </param>
/// <param name="Split">Train, test, or both concatenated.</param>
public sealed record MnistRequest(string? Dataset, string? DataDirectory, string? CacheDirectory, MnistSplit Split);
