using LatentLab.StableDiffusion.Autoencoder;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Autoencoder;

public class AutoencoderKLTests
{
    private const double Tolerance = 1e-4;
    private const string Inner = "pipe.inner.vae_decode_call0.decoder.";

    internal static AutoencoderKL LoadTiny()
    {
        string folder = Path.Combine(Sd3TestData.ModelFolder, "vae");
        var model = new AutoencoderKL(AutoencoderKLConfig.Load(Path.Combine(folder, "config.json")));
        Sd3TestData.LoadWeights(model, "vae", AutoencoderKL.MapCheckpointKey);
        model.eval();
        return model;
    }

    private static torch.Tensor Golden(string name) => Sd3TestData.Golden("sd3", name);

    [Fact]
    public void Config_gives_sixteen_latent_channels_and_the_latent_statistics()
    {
        AutoencoderKLConfig config = LoadTiny().Config;
        Assert.Equal(16, config.LatentChannels);
        Assert.Equal(1.5305, config.ScalingFactor);
        Assert.Equal(0.0609, config.ShiftFactor);
        Assert.False(config.UsePostQuantConv);
        Assert.Equal(8, config.ScaleFactor);
    }

    [Fact]
    public void Decode_matches_the_reference_with_its_inner_stages()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        AutoencoderKL vae = LoadTiny();
        torch.Tensor z = Golden("pipe.vae_decode.call0.in.z");

        torch.Tensor hidden = vae.DecoderModule.ConvIn.forward(z);
        TensorAssert.Close(Golden(Inner + "conv_in"), hidden, Tolerance, Tolerance);
        hidden = vae.DecoderModule.MidBlock.forward(hidden);
        TensorAssert.Close(Golden(Inner + "mid_block"), hidden, Tolerance, Tolerance);
        hidden = vae.DecoderModule.UpBlocks[0].forward(hidden);
        TensorAssert.Close(Golden(Inner + "up_blocks.0"), hidden, Tolerance, Tolerance);

        TensorAssert.Close(Golden("pipe.vae_decode.call0.out.0"), vae.Decode(z), Tolerance, Tolerance);
    }

    [Fact]
    public void Unscale_applies_scaling_then_shift()
    {
        using var scope = torch.NewDisposeScope();
        AutoencoderKL vae = LoadTiny();
        torch.Tensor latents = torch.full([1, 16, 2, 2], 3.0f);
        float expected = (float)(3.0 / 1.5305 + 0.0609);
        Assert.Equal(expected, vae.Unscale(latents)[0, 0, 0, 0].item<float>(), 5);
    }

    [Fact]
    public void Unknown_decoder_block_types_are_named_with_the_supported_one()
    {
        var config = new AutoencoderKLConfig(UpBlockTypes: ["AttnUpDecoderBlock2D"], BlockOutChannels: [32]);
        NotSupportedException error = Assert.Throws<NotSupportedException>(() => new AutoencoderKL(config));
        Assert.Contains("UpDecoderBlock2D", error.Message, StringComparison.Ordinal);
    }
}
