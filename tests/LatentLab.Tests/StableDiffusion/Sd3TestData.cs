using System.Text.Json;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>Paths to the copied tiny SD3 model and goldens (see TestData/sd3/NOTE.md) and a reader for them.</summary>
internal static class Sd3TestData
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "sd3");

    public static string ModelFolder => Path.Combine(Root, "model");

    public static string GoldenFile(string bundle) => Path.Combine(Root, "goldens", bundle + ".safetensors");

    /// <summary>Reads one golden tensor as a fresh CPU tensor.</summary>
    public static torch.Tensor Golden(string bundle, string name) => TestSafeTensors.Read(GoldenFile(bundle), name);

    /// <summary>Reads every tensor of a safetensors file (a weights file of the tiny model, for instance).</summary>
    public static Dictionary<string, torch.Tensor> ReadAll(string path) => TestSafeTensors.ReadAll(path);

    /// <summary>The manifest's scalar section of a golden bundle.</summary>
    public static JsonElement Scalars(string bundle)
    {
        using JsonDocument document = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(Root, "goldens", bundle + ".manifest.json")));
        return document.RootElement.GetProperty("scalars").Clone();
    }
}
