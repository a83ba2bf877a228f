using TorchSharp;

namespace LatentLab.Tests.StableDiffusion;

/// <summary>
/// Strict load of a safetensors file into a module's state dict by name, for the tests.
/// TODO(#4): replace with LatentLab.Weights.ModuleWeights.Load once the shared loader lands on main.
/// </summary>
internal static class TestWeights
{
    public static void Load(torch.nn.Module module, string path, Func<string, string?>? mapKey = null)
    {
        Dictionary<string, torch.Tensor> file = Sd3TestData.ReadAll(path);
        var mapped = new Dictionary<string, torch.Tensor>();
        foreach ((string name, torch.Tensor tensor) in file)
        {
            string? key = mapKey is null ? name : mapKey(name);
            if (key is null) tensor.Dispose();
            else mapped[key] = tensor;
        }
        Dictionary<string, torch.Tensor> state = module.state_dict();
        string[] missing = [.. state.Keys.Except(mapped.Keys)];
        string[] unexpected = [.. mapped.Keys.Except(state.Keys)];
        if (missing.Length > 0 || unexpected.Length > 0)
        {
            throw new InvalidDataException(
                $"{path}: missing [{string.Join(", ", missing.Take(5))}], unexpected [{string.Join(", ", unexpected.Take(5))}]");
        }
        using (torch.no_grad())
        {
            foreach ((string key, torch.Tensor target) in state)
            {
                Assert.Equal(target.shape, mapped[key].shape);
                target.copy_(mapped[key]);
                mapped[key].Dispose();
            }
        }
    }
}
