using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.Runtime;

public class SeededNoiseTests
{
    [Theory]
    [InlineData("randn_seed0_7", new long[] { 7 })]
    [InlineData("randn_seed0_2x3", new long[] { 2, 3 })]
    [InlineData("randn_seed0_1x16x16x24", new long[] { 1, 16, 16, 24 })]
    public void Seeded_cpu_generator_reproduces_pytorch_randn_bit_for_bit(string golden, long[] shape)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(TestPaths.Data("misc", "misc.safetensors"));
        using torch.Tensor expected = file.ReadTensor(golden);
        using var generator = new torch.Generator(0);

        using torch.Tensor actual = torch.randn(shape, generator: generator);

        TensorAssert.Equal(expected, actual);
    }
}
