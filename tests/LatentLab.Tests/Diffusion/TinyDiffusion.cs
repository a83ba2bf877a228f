using LatentLab.Diffusion;
using LatentLab.Runtime;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

/// <summary>Small models for fast tests.</summary>
internal static class TinyDiffusion
{
    public static DiffusionConfig Config(int imageSize = 8, int channels = 1) => new()
    {
        ImageSize = imageSize,
        Channels = channels,
        Widths = [4, 8],
        BlockDepth = 1,
        BatchSize = 4,
    };

    public static DiffusionModel Model(long seed, DiffusionConfig? config = null)
    {
        TorchRuntime.EnsureLoaded();
        manual_seed(seed);
        return new DiffusionModel(config ?? Config());
    }
}
