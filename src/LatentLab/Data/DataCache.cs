namespace LatentLab.Data;

/// <summary>
/// Where downloaded datasets are kept, like Keras's <c>~/.keras/datasets</c>: the folder given by an option, else
/// the <c>LATENTLAB_DATA</c> environment variable, else <c>~/.latentlab/datasets</c>.
/// </summary>
public static class DataCache
{
    /// <summary>Environment variable naming the cache folder.</summary>
    public const string EnvironmentVariable = "LATENTLAB_DATA";

    /// <summary>The cache root to use (not created here).</summary>
    public static string ResolveRoot(string? fromOption)
    {
        if (!string.IsNullOrWhiteSpace(fromOption)) return Path.GetFullPath(fromOption);
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".latentlab", "datasets");
    }
}
