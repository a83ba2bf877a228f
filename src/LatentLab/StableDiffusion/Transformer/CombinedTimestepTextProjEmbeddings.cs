using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// The conditioning vector of every adaptive norm: an MLP of the sinusoidal timestep embedding plus an MLP of the
/// pooled CLIP embedding. Checkpoint keys: <c>timestep_embedder.*</c>, <c>text_embedder.*</c>.
/// </summary>
internal sealed class CombinedTimestepTextProjEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Channels of the sinusoidal timestep features.</summary>
    internal const int TimestepChannels = 256;

    private readonly TwoLayerMlp timestep_embedder;
    private readonly TwoLayerMlp text_embedder;

    public CombinedTimestepTextProjEmbeddings(int embeddingDim, int pooledProjectionDim)
        : base(nameof(CombinedTimestepTextProjEmbeddings))
    {
        timestep_embedder = new TwoLayerMlp(TimestepChannels, embeddingDim);
        text_embedder = new TwoLayerMlp(pooledProjectionDim, embeddingDim);
        RegisterComponents();
    }

    /// <param name="timesteps">[B] model timesteps (0..1000), any float dtype.</param>
    /// <param name="pooledProjections">[B, Dp] pooled text embeddings, in the model's dtype.</param>
    /// <returns>[B, D] conditioning.</returns>
    public override Tensor forward(Tensor timesteps, Tensor pooledProjections)
    {
        using var scope = NewDisposeScope();
        Tensor features = TimestepFeatures(timesteps, TimestepChannels).to(pooledProjections.dtype); // [B, 256]
        Tensor timeEmbedding = timestep_embedder.forward(features); // [B, D]
        Tensor textEmbedding = text_embedder.forward(pooledProjections); // [B, D]
        return (timeEmbedding + textEmbedding).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sinusoidal timestep features in float32, cosines first (diffusers' <c>Timesteps</c> with
    /// <c>flip_sin_to_cos=True</c>, <c>downscale_freq_shift=0</c>): [cos(t f_k), sin(t f_k)] with
    /// f_k = exp(-ln(10000) k / (C/2)).
    /// </summary>
    internal static Tensor TimestepFeatures(Tensor timesteps, int channels)
    {
        using var scope = NewDisposeScope();
        int half = channels / 2;
        Tensor exponents = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device)
                           * (float)-Math.Log(10000) / half;
        Tensor frequencies = exponents.exp(); // [C/2]
        Tensor arguments = timesteps.to(ScalarType.Float32).unsqueeze(1) * frequencies.unsqueeze(0); // [B, C/2]
        return cat([arguments.cos(), arguments.sin()], dim: 1).MoveToOuterDisposeScope(); // [B, C]
    }
}
