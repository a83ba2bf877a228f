using System.Text.Json;
using LatentLab.Weights;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace LatentLab.Tests.Weights;

public class ModuleWeightsTests
{
    [Fact]
    public void Saved_weights_load_into_a_fresh_module_and_give_identical_outputs()
    {
        torch.manual_seed(1);
        using var original = Sequential(("first", Linear(3, 4)), ("second", Linear(4, 2)));
        using var fresh = Sequential(("first", Linear(3, 4)), ("second", Linear(4, 2)));
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.safetensors");

        ModuleWeights.Save(original, path);
        using (TensorSource source = TensorSource.OpenFile(path)) ModuleWeights.Load(fresh, source);

        using torch.Tensor input = torch.randn(5, 3);
        TensorAssert.Equal(original.forward(input), fresh.forward(input));
    }

    [Fact]
    public void Missing_unexpected_and_misshaped_tensors_are_named()
    {
        string folder = TestPaths.NewTemporaryFolder();
        string path = Path.Combine(folder, "model.safetensors");
        using torch.Tensor weight = torch.zeros(4, 3);
        using torch.Tensor extra = torch.zeros(1);
        SafeTensorsWriter.Save(path, [new("first.weight", weight), new("surprise", extra)]);
        using var module = Sequential(("first", Linear(3, 5)));

        using TensorSource source = TensorSource.OpenFile(path);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(module, source));

        Assert.Contains("missing first.bias", error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected surprise", error.Message, StringComparison.Ordinal);
        Assert.Contains("mis-shaped first.weight (file [4, 3], model [5, 3])", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_folder_with_index_loads_every_shard()
    {
        string folder = TestPaths.NewTemporaryFolder();
        torch.manual_seed(2);
        using var original = Sequential(("first", Linear(3, 4)), ("second", Linear(4, 2)));
        Dictionary<string, torch.Tensor> state = original.state_dict();
        SafeTensorsWriter.Save(Path.Combine(folder, "model-00001-of-00002.safetensors"),
            state.Where(entry => entry.Key.StartsWith("first", StringComparison.Ordinal)));
        SafeTensorsWriter.Save(Path.Combine(folder, "model-00002-of-00002.safetensors"),
            state.Where(entry => entry.Key.StartsWith("second", StringComparison.Ordinal)));
        var index = new
        {
            metadata = new { total_size = 0 },
            weight_map = state.Keys.ToDictionary(name => name,
                name => name.StartsWith("first", StringComparison.Ordinal)
                    ? "model-00001-of-00002.safetensors"
                    : "model-00002-of-00002.safetensors"),
        };
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), JsonSerializer.Serialize(index));
        using var fresh = Sequential(("first", Linear(3, 4)), ("second", Linear(4, 2)));

        using (TensorSource source = TensorSource.OpenFolder(folder)) ModuleWeights.Load(fresh, source);

        using torch.Tensor input = torch.randn(2, 3);
        TensorAssert.Equal(original.forward(input), fresh.forward(input));
    }

    [Fact]
    public void Shard_index_pointing_outside_the_folder_is_refused()
    {
        string folder = TestPaths.NewTemporaryFolder();
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            """{"weight_map": {"a": "../elsewhere.safetensors"}}""");

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => TensorSource.OpenFolder(folder));

        Assert.Contains("not a plain file name", error.Message, StringComparison.Ordinal);
    }
}
