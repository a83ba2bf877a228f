namespace LatentLab.Tests;

/// <summary>Locations of test data and scratch folders.</summary>
public static class TestPaths
{
    /// <summary>The TestData folder copied beside the test assembly.</summary>
    public static string Data(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);

    /// <summary>A fresh, empty temporary folder (deleted by the OS's tmp cleaning, not by the test).</summary>
    public static string NewTemporaryFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "latentlab-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
