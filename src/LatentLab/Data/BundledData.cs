namespace LatentLab.Data;

/// <summary>
/// Finds the data shipped with LatentLab (the Fashion-MNIST test split under <c>data/fashion-mnist/</c>), so that
/// training runs offline from a clean clone.
/// </summary>
/// <remarks>
/// The build copies <c>data/</c> next to the assemblies (see LatentLab.csproj), which covers an installed tool
/// and every build output; running from a checkout whose output lacks it, the folders above the application are
/// searched for the repository's own <c>data/</c> folder.
/// </remarks>
public static class BundledData
{
    /// <summary>The folder name, under <c>data/</c>, of the bundled Fashion-MNIST test split.</summary>
    public const string FashionMnistFolder = "fashion-mnist";

    /// <summary>
    /// Returns the bundled folder <c>data/<paramref name="name"/></c> holding <paramref name="markerFile"/>,
    /// or null when it is found neither beside the application nor in a folder above it.
    /// </summary>
    public static string? FindDirectory(string name, string markerFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(markerFile);
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "data", name);
            if (File.Exists(Path.Combine(candidate, markerFile))) return candidate;
        }
        return null;
    }
}
