using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>
/// The reference numbers of the text side of Stable Diffusion 3 (see TestData/sd3/NOTE-text.md): the tiny model's
/// folder, the test strings, and golden tensors by name.
/// </summary>
internal static class TextGoldens
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData", "sd3");

    /// <summary>The tiny SD3 model folder (text side complete; transformer config only).</summary>
    public static string ModelFolder => Path.Combine(Root, "model");

    private static string GoldenPath => Path.Combine(Root, "goldens", "sd3.safetensors");

    private static readonly Lazy<JsonDocument> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "goldens", "sd3.manifest.json"))));

    /// <summary>The nine tokenizer test strings (the same for all three tokenizers).</summary>
    public static IReadOnlyList<string> Strings(string tokenizer = "tokenizer") =>
        Manifest.Value.RootElement.GetProperty("scalars").GetProperty($"{tokenizer}.strings").EnumerateArray()
            .Select(element => element.GetString()!).ToList();

    /// <summary>The prompt of the golden run.</summary>
    public static string Prompt =>
        Manifest.Value.RootElement.GetProperty("scalars").GetProperty("prompt").GetString()!;

    /// <summary>The negative prompt of the golden run.</summary>
    public static string NegativePrompt =>
        Manifest.Value.RootElement.GetProperty("scalars").GetProperty("negative_prompt").GetString()!;

    /// <summary>A golden int64 tensor's values.</summary>
    public static long[] Int64s(string name)
    {
        (string dtype, long[] _, byte[] bytes) = ReadRaw(name);
        Assert.Equal("I64", dtype);
        var values = new long[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8));
        return values;
    }

    /// <summary>A golden float32 tensor, as a CPU tensor of its shape.</summary>
    public static torch.Tensor Float32(string name)
    {
        (string dtype, long[] shape, byte[] bytes) = ReadRaw(name);
        Assert.Equal("F32", dtype);
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        return torch.tensor(values, shape);
    }

    /// <summary>Largest absolute difference, after checking shapes agree.</summary>
    public static double MaxAbsDiff(torch.Tensor expected, torch.Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        using torch.Tensor difference = (expected.to(torch.float32).cpu() - actual.to(torch.float32).cpu()).abs();
        return difference.max().item<float>();
    }

    /// <summary>Asserts every element agrees within <paramref name="atol"/> + <paramref name="rtol"/> |expected|.</summary>
    public static void AssertClose(torch.Tensor expected, torch.Tensor actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = torch.NewDisposeScope();
        torch.Tensor wanted = expected.to(torch.float32).cpu();
        torch.Tensor got = actual.to(torch.float32).cpu();
        torch.Tensor excess = (wanted - got).abs() - (wanted.abs() * rtol + atol);
        float worst = excess.max().item<float>();
        if (worst > 0)
        {
            long where = excess.flatten().argmax().item<long>();
            double maxDiff = (wanted - got).abs().max().item<float>();
            Assert.Fail($"{what}: max |diff| {maxDiff:g4} exceeds atol {atol:g2} + rtol {rtol:g2}; worst at flat " +
                        $"index {where} (expected {wanted.flatten()[where].item<float>():g6}, got " +
                        $"{got.flatten()[where].item<float>():g6}).");
        }
    }

    /// <summary>
    /// Copies a float32 safetensors file into the module's state by name, requiring an exact match of names and
    /// shapes. Test-only. TODO(#4): replace with ModuleWeights.Load once on main.
    /// </summary>
    public static void LoadWeights(torch.nn.Module module, string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        Dictionary<string, torch.Tensor> state = module.state_dict();
        var loaded = new HashSet<string>();
        using (torch.no_grad())
        {
            foreach (JsonProperty entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                Assert.True(state.ContainsKey(entry.Name), $"unexpected weight {entry.Name}");
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
                JsonElement offsets = entry.Value.GetProperty("data_offsets");
                int begin = (int)(8 + headerLength + offsets[0].GetInt64());
                int end = (int)(8 + headerLength + offsets[1].GetInt64());
                var values = new float[(end - begin) / 4];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(begin + i * 4));
                }
                using torch.Tensor value = torch.tensor(values, shape);
                state[entry.Name].copy_(value);
                loaded.Add(entry.Name);
            }
        }
        Assert.Empty(state.Keys.Except(loaded));
    }

    /// <summary>Test-only safetensors reading of one entry. TODO(#4): replace with SafeTensorsFile once on main.</summary>
    private static (string DType, long[] Shape, byte[] Bytes) ReadRaw(string name)
    {
        byte[] file = File.ReadAllBytes(GoldenPath);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        JsonElement entry = header.RootElement.GetProperty(name);
        long[] shape = entry.GetProperty("shape").EnumerateArray().Select(value => value.GetInt64()).ToArray();
        JsonElement offsets = entry.GetProperty("data_offsets");
        int begin = (int)(8 + headerLength + offsets[0].GetInt64());
        int end = (int)(8 + headerLength + offsets[1].GetInt64());
        return (entry.GetProperty("dtype").GetString()!, shape, file[begin..end]);
    }
}
