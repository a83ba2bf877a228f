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

    /// <summary>
    /// Loads libtorch and uses one thread: these models are tiny, and on a shared, busy machine libtorch's worker
    /// threads spin against each other (measured: 450 ms per step with two threads under load, 24 ms with one).
    /// </summary>
    public static void Prepare()
    {
        TorchRuntime.EnsureLoaded();
        set_num_threads(1);
    }

    public static DiffusionModel Model(long seed, DiffusionConfig? config = null)
    {
        Prepare();
        manual_seed(seed);
        return new DiffusionModel(config ?? Config());
    }
}
