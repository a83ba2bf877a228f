using LatentLab.Runtime;
using TorchSharp;

namespace LatentLab.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        TorchRuntime.EnsureLoaded();
        using torch.Tensor sum = torch.arange(4, torch.float32).sum();
        Assert.Equal(6f, sum.item<float>());
    }

    [Fact]
    public void Unknown_device_name_is_a_clear_error()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice("tpu"));
        Assert.Contains("cpu, cuda", error.Message, StringComparison.Ordinal);
    }
}
