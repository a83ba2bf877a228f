using LatentLab.Vae;
using TorchSharp;
using static TorchSharp.torch;
using VaeModel = LatentLab.Vae.Vae;

namespace LatentLab.Tests.Vae;

public class VaeModelTests
{
    [Fact]
    public void Default_config_has_the_chapters_parameter_counts()
    {
        using var generator = new Generator(0, CPU);
        using var vae = new VaeModel(new VaeConfig(), generator);

        Assert.Equal(69_076, vae.EncoderParameterCount);
        Assert.Equal(65_089, vae.DecoderParameterCount);
        Assert.Equal(69_076 + 65_089, vae.ParameterCount);
    }

    [Fact]
    public void State_dict_keys_are_stable_checkpoint_names()
    {
        using var vae = new VaeModel(new VaeConfig());
        string[] expected =
        [
            "encoder.conv1.weight", "encoder.conv1.bias", "encoder.conv2.weight", "encoder.conv2.bias",
            "encoder.dense.weight", "encoder.dense.bias", "encoder.z_mean.weight", "encoder.z_mean.bias",
            "encoder.z_log_var.weight", "encoder.z_log_var.bias",
            "decoder.dense.weight", "decoder.dense.bias", "decoder.deconv1.weight", "decoder.deconv1.bias",
            "decoder.deconv2.weight", "decoder.deconv2.bias", "decoder.conv_out.weight", "decoder.conv_out.bias",
        ];
        Assert.Equal(expected.Order(), vae.state_dict().Keys.Order());
    }

    [Theory]
    [InlineData(2, 28, 1)]
    [InlineData(8, 32, 3)]
    [InlineData(1, 4, 1)]
    public void Shapes_follow_the_config(int latentDim, int imageSize, int channels)
    {
        using var generator = new Generator(1, CPU);
        using var vae = new VaeModel(new VaeConfig(latentDim, imageSize, channels), generator);
        using Tensor images = rand([3, channels, imageSize, imageSize], generator: generator);

        (Tensor mean, Tensor logVar) = vae.Encode(images);
        using Tensor reconstructed = vae.Reconstruct(images);
        using Tensor samples = vae.Sample(5, generator);

        Assert.Equal([3, latentDim], mean.shape);
        Assert.Equal([3, latentDim], logVar.shape);
        Assert.Equal(images.shape, reconstructed.shape);
        Assert.Equal([5, channels, imageSize, imageSize], samples.shape);
        Assert.True(samples.min().item<float>() > 0f && samples.max().item<float>() < 1f);
        mean.Dispose();
        logVar.Dispose();
    }

    [Fact]
    public void Weights_start_glorot_uniform_with_zero_biases()
    {
        using var generator = new Generator(5, CPU);
        using var vae = new VaeModel(new VaeConfig(), generator);
        var parameters = vae.named_parameters().ToDictionary(pair => pair.name, pair => pair.parameter);

        // encoder.dense: [16, 3136], bound sqrt(6 / (3136 + 16)) = 0.04363; 50,176 draws reach close to it.
        double bound = Math.Sqrt(6.0 / (3136 + 16));
        double largest = parameters["encoder.dense.weight"].abs().max().item<float>();
        Assert.InRange(largest, 0.99 * bound, bound);
        Assert.Equal(0f, parameters["decoder.deconv1.bias"].abs().max().item<float>());
    }

    [Fact]
    public void Same_generator_seed_gives_the_same_weights()
    {
        using var first = new VaeModel(new VaeConfig(), new Generator(42, CPU));
        using var second = new VaeModel(new VaeConfig(), new Generator(42, CPU));
        foreach ((string name, Tensor value) in first.state_dict())
        {
            Assert.True(value.allclose(second.state_dict()[name], rtol: 0, atol: 0), name);
        }
    }

    [Fact]
    public void Sampler_is_mean_plus_scaled_noise_from_the_generator()
    {
        using Tensor mean = tensor(new float[] { 1f, -2f }).reshape(1, 2);
        using Tensor logVar = tensor(new float[] { 0f, MathF.Log(4f) }).reshape(1, 2);
        using Tensor epsilon = randn([1, 2], generator: new Generator(9, CPU));

        using Tensor latents = VaeModel.SampleLatents(mean, logVar, new Generator(9, CPU));

        float[] values = latents.data<float>().ToArray();
        float[] noise = epsilon.data<float>().ToArray();
        Assert.Equal(1f + noise[0], values[0], 1e-6f);
        Assert.Equal(-2f + 2f * noise[1], values[1], 1e-6f);
    }

    [Fact]
    public void Wrong_image_shape_is_a_clear_error()
    {
        using var vae = new VaeModel(new VaeConfig());
        using Tensor images = zeros(2, 1, 32, 32);
        ArgumentException error = Assert.Throws<ArgumentException>(() => vae.Encode(images));
        Assert.Contains("[B, 1, 28, 28]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 28, 1, "latent_dim")]
    [InlineData(2, 30, 1, "image_size")]
    [InlineData(2, 28, 2, "channels")]
    public void Invalid_config_is_rejected(int latentDim, int imageSize, int channels, string option)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(
            () => new VaeModel(new VaeConfig(latentDim, imageSize, channels)));
        Assert.StartsWith(option, error.Message, StringComparison.Ordinal);
    }
}
