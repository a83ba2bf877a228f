using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// A variational autoencoder as the reference chapter builds it: a convolutional <see cref="VaeEncoder"/> giving
/// q(z | x) = N(mean, exp(log_var)), a reparameterised sampler, and a <see cref="VaeDecoder"/> giving Bernoulli
/// pixel probabilities. Images are float tensors [B, C, H, W] with values in [0, 1].
/// </summary>
/// <remarks>
/// Parameter names (the state_dict keys, also the safetensors keys) are <c>encoder.conv1.weight</c> ...
/// <c>decoder.conv_out.bias</c>. Weights start as Keras initialises them: Glorot-uniform kernels, zero biases.
/// <see cref="Encode"/>, <see cref="Decode"/>, <see cref="Sample"/> and <see cref="Reconstruct"/> run without
/// gradients; training goes through <c>VaeTrainer</c>.
/// </remarks>
public sealed class Vae : nn.Module
{
    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;

    /// <summary>Creates a VAE with freshly initialised weights.</summary>
    /// <param name="config">The shape; validated here.</param>
    /// <param name="generator">Source of the initial weights; null uses torch's global generator.</param>
    /// <exception cref="ArgumentException">The config is out of range.</exception>
    public Vae(VaeConfig config, Generator? generator = null) : base(nameof(Vae))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        RegisterComponents();
        InitialiseLikeKeras(generator);
    }

    /// <summary>The shape of this VAE.</summary>
    public VaeConfig Config { get; }

    /// <summary>The device the weights are on.</summary>
    public Device Device => parameters().First().device;

    /// <summary>Number of trainable values (134,165 for the default config: 69,076 + 65,089).</summary>
    public long ParameterCount => parameters().Sum(parameter => parameter.numel());

    /// <summary>Number of trainable values in the encoder.</summary>
    public long EncoderParameterCount => encoder.parameters().Sum(parameter => parameter.numel());

    /// <summary>Number of trainable values in the decoder.</summary>
    public long DecoderParameterCount => decoder.parameters().Sum(parameter => parameter.numel());

    /// <summary>Encodes images [B, C, H, W] in [0, 1] to q(z | x): mean and log-variance, each [B, latent].</summary>
    /// <exception cref="ArgumentException">The images do not have this VAE's channels and size.</exception>
    public (Tensor Mean, Tensor LogVar) Encode(Tensor images)
    {
        CheckImages(images);
        using var noGrad = no_grad();
        return encoder.forward(images.to(Device));
    }

    /// <summary>Decodes latents [B, latent] to images [B, C, H, W] with values in (0, 1).</summary>
    /// <exception cref="ArgumentException">The latents are not [B, latent_dim].</exception>
    public Tensor Decode(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 2 || latents.shape[1] != Config.LatentDim)
        {
            throw new ArgumentException(
                $"latents must be [B, {Config.LatentDim}], got [{string.Join(", ", latents.shape)}].",
                nameof(latents));
        }
        using var noGrad = no_grad();
        using Tensor logits = decoder.forward(latents.to(Device));
        return logits.sigmoid();
    }

    /// <summary>Draws <paramref name="count"/> prior latents N(0, I) and decodes them: [count, C, H, W].</summary>
    /// <param name="count">Number of images, at least 1.</param>
    /// <param name="generator">Random source (on this VAE's device); null uses torch's global generator.</param>
    public Tensor Sample(int count, Generator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using Tensor latents = randn([count, Config.LatentDim], device: Device, generator: generator);
        return Decode(latents);
    }

    /// <summary>Encodes and decodes images through the posterior mean (no sampling): [B, C, H, W] in (0, 1).</summary>
    public Tensor Reconstruct(Tensor images)
    {
        (Tensor mean, Tensor logVar) = Encode(images);
        using (mean)
        using (logVar)
        {
            return Decode(mean);
        }
    }

    /// <summary>
    /// The reparameterised sampler: z = mean + exp(0.5 * log_var) * epsilon, epsilon ~ N(0, I) drawn from
    /// <paramref name="generator"/> (null: torch's global generator). Differentiable in mean and log_var.
    /// </summary>
    public static Tensor SampleLatents(Tensor mean, Tensor logVar, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVar);
        using Tensor epsilon = randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator);
        using Tensor std = (0.5 * logVar).exp();
        return mean + std * epsilon;
    }

    /// <summary>
    /// The training pass with gradients: encode, sample z, decode. Returns decoder logits [B, C, H, W] and the
    /// posterior mean and log-variance [B, latent].
    /// </summary>
    public (Tensor Logits, Tensor Mean, Tensor LogVar) Forward(Tensor images, Generator? generator = null)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        (Tensor mean, Tensor logVar) = encoder.forward(images);
        Tensor latents = SampleLatents(mean, logVar, generator);
        Tensor logits = decoder.forward(latents);
        return (logits.MoveToOuterDisposeScope(), mean.MoveToOuterDisposeScope(), logVar.MoveToOuterDisposeScope());
    }

    /// <summary>Decoder logits for latents [B, latent], with gradients (for evaluation and custom losses).</summary>
    public Tensor DecodeLogits(Tensor latents) => decoder.forward(latents);

    /// <summary>Encoder outputs with gradients (for evaluation and custom losses).</summary>
    public (Tensor Mean, Tensor LogVar) EncodeWithGradients(Tensor images)
    {
        CheckImages(images);
        return encoder.forward(images);
    }

    private void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != Config.Channels || images.shape[2] != Config.ImageSize ||
            images.shape[3] != Config.ImageSize)
        {
            throw new ArgumentException(
                $"images must be [B, {Config.Channels}, {Config.ImageSize}, {Config.ImageSize}], " +
                $"got [{string.Join(", ", images.shape)}].", nameof(images));
        }
    }

    /// <summary>Glorot-uniform kernels and zero biases: Keras' defaults for Conv2D, Conv2DTranspose, Dense.</summary>
    private void InitialiseLikeKeras(Generator? generator)
    {
        using var noGrad = no_grad();
        foreach ((string name, TorchSharp.Modules.Parameter parameter) in named_parameters())
        {
            if (parameter.dim() == 1)
            {
                parameter.zero_();
                continue;
            }
            // Linear [out, in]; Conv2d [out, in, k, k]; ConvTranspose2d [in, out, k, k]: the sum is symmetric.
            long receptiveField = parameter.dim() > 2 ? parameter.shape[2] * parameter.shape[3] : 1;
            double fanSum = (parameter.shape[0] + parameter.shape[1]) * (double)receptiveField;
            double bound = Math.Sqrt(6.0 / fanSum);
            parameter.uniform_(-bound, bound, generator);
        }
    }
}
