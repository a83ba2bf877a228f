using System.Text.Json;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>
/// The reference numbers of the text side of Stable Diffusion 3 (see TestData/sd3/NOTE-text.md): the tiny model's
/// folder, the test strings, and golden tensors by name.
/// </summary>
internal static class TextGoldens
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "sd3");

    /// <summary>The tiny SD3 model folder (text side complete; the transformer's config).</summary>
    public static string ModelFolder => Path.Combine(Root, "model");

    private static readonly Lazy<JsonDocument> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "goldens", "sd3.manifest.json"))));

    /// <summary>The nine tokenizer test strings of one tokenizer.</summary>
    public static IReadOnlyList<string> Strings(string tokenizer = "tokenizer") =>
        Manifest.Value.RootElement.GetProperty("scalars").GetProperty($"{tokenizer}.strings").EnumerateArray()
            .Select(element => element.GetString()!).ToList();

    /// <summary>The prompt of the golden run.</summary>
    public static string Prompt => Scalar("prompt");

    /// <summary>The negative prompt of the golden run.</summary>
    public static string NegativePrompt => Scalar("negative_prompt");

    /// <summary>A golden int64 tensor's values.</summary>
    public static long[] Int64s(string name)
    {
        using torch.Tensor tensor = Tensor(name);
        Assert.Equal(torch.int64, tensor.dtype);
        return tensor.data<long>().ToArray();
    }

    /// <summary>A golden tensor as a fresh CPU tensor.</summary>
    public static torch.Tensor Tensor(string name)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(Root, "goldens", "sd3.safetensors"));
        return file.ReadTensor(name);
    }

    private static string Scalar(string name) =>
        Manifest.Value.RootElement.GetProperty("scalars").GetProperty(name).GetString()!;
}
