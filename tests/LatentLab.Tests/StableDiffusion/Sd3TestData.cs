using System.Text.Json;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>Paths to the copied tiny SD3 model and goldens (see TestData/sd3/NOTE.md) and readers for them.</summary>
internal static class Sd3TestData
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "sd3");

    public static string ModelFolder => Path.Combine(Root, "model");

    public static string GoldenFile(string bundle) => Path.Combine(Root, "goldens", bundle + ".safetensors");

    /// <summary>Reads one golden tensor as a fresh CPU tensor.</summary>
    public static torch.Tensor Golden(string bundle, string name)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(GoldenFile(bundle));
        return file.ReadTensor(name);
    }

    /// <summary>Loads a component's weights from the tiny model (strictly, by name).</summary>
    public static void LoadWeights(torch.nn.Module module, string component, Func<string, string?>? mapKey = null)
    {
        using TensorSource source = TensorSource.OpenFolder(Path.Combine(ModelFolder, component));
        ModuleWeights.Load(module, source, mapKey);
    }

    /// <summary>Reads one tensor of a component's weights in the tiny model.</summary>
    public static torch.Tensor ModelTensor(string component, string name)
    {
        using TensorSource source = TensorSource.OpenFolder(Path.Combine(ModelFolder, component));
        return source.Read(name);
    }

    /// <summary>The manifest's scalar section of a golden bundle.</summary>
    public static JsonElement Scalars(string bundle)
    {
        using JsonDocument document = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(Root, "goldens", bundle + ".manifest.json")));
        return document.RootElement.GetProperty("scalars").Clone();
    }
}
