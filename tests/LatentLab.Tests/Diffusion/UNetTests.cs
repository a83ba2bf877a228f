using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class UNetTests
{
    [Fact]
    public void Default_network_has_the_keras_parameter_count()
    {
        TinyDiffusion.Prepare();
        manual_seed(0);
        using var network = new UNet(new DiffusionConfig());

        // Worked out layer by layer (conv k x k from i to o: i*o*k*k + o); batch norms carry no trainable weights
        // but Keras counts their moving mean and variance (2 per input channel) in "Total params".
        //   conv_in 3->32 (1x1)                                                          128
        //   down 32:  33->32 (skip 1088, 9536, 9248), 32->32 (9248, 9248)              38368
        //   down 64:  32->64 (2112, 18496, 36928), 64->64 (36928, 36928)              131392
        //   down 96:  64->96 (6240, 55392, 83040), 96->96 (83040, 83040)              310752
        //   middle:   96->128 (12416, 110720, 147584), 128->128 (147584, 147584)      565888
        //   up 96:    224->96 (21600, 193632, 83040), 192->96 (18528, 165984, 83040)  565824
        //   up 64:    160->64 (10304, 92224, 36928), 128->64 (8256, 73792, 36928)     258432
        //   up 32:    96->32 (3104, 27680, 9248), 64->32 (2080, 18464, 9248)           69824
        //   conv_out 32->3 (1x1)                                                           99
        //   total trainable 1,940,707; batch-norm statistics 2 x 1,409 = 2,818
        Assert.Equal(1_940_707, network.TrainableParameterCount);
        Assert.Equal(1_943_525, network.KerasParameterCount);
    }

    [Fact]
    public void Output_has_the_input_shape_and_is_zero_at_initialisation()
    {
        TinyDiffusion.Prepare();
        manual_seed(1);
        var config = new DiffusionConfig { ImageSize = 16, Widths = [8, 16, 24], BlockDepth = 1 };
        using var network = new UNet(config);
        using Tensor images = randn(2, 3, 16, 16);
        using Tensor variances = rand(2, 1, 1, 1);
        using Tensor output = network.forward(images, variances);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, output.shape);
        Assert.Equal(0f, output.abs().max().item<float>());
    }

    [Fact]
    public void Noise_variance_reaches_the_output()
    {
        TinyDiffusion.Prepare();
        manual_seed(2);
        var config = new DiffusionConfig { ImageSize = 8, Channels = 1, Widths = [4, 8], BlockDepth = 1 };
        using var network = new UNet(config);
        using (no_grad())
        {
            foreach ((string name, var parameter) in network.named_parameters())
                if (name == "conv_out.weight") parameter.normal_();
        }
        network.eval();
        using Tensor images = randn(1, 1, 8, 8);
        using Tensor low = network.forward(images, full(1, 1, 1, 1, 0.1f));
        using Tensor high = network.forward(images, full(1, 1, 1, 1, 0.9f));
        Assert.True((low - high).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Image_size_not_divisible_by_the_downsampling_is_refused()
    {
        var config = new DiffusionConfig { ImageSize = 36 };
        ArgumentException error = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains("multiple of 8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_round_trips_through_json()
    {
        var config = new DiffusionConfig { ImageSize = 32, Channels = 1, Widths = [16, 32], EmaMomentum = 0.95 };
        DiffusionConfig read = DiffusionConfig.FromJson(config.ToJson(), "config.json");
        Assert.Equal(config.Widths, read.Widths);
        Assert.Equal(config with { Widths = read.Widths }, read);
        Assert.Throws<InvalidDataException>(() => DiffusionConfig.FromJson("{\"image_size\": 30}", "x.json"));
        Assert.Throws<InvalidDataException>(() => DiffusionConfig.FromJson("{\"nonsense\": 1}", "x.json"));
    }
}
