using System.Text.Json.Serialization;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// A T5 encoder's <c>config.json</c> (transformers <c>T5Config</c>); property names mirror its keys and defaults are
/// transformers' defaults. Stable Diffusion 3 uses T5 v1.1 XXL (d_model 4096, 24 layers, gated-gelu).
/// </summary>
public sealed record T5EncoderConfig
{
    /// <summary>Model classes this config may name in <c>architectures</c>.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["T5EncoderModel"];

    /// <summary>Supported <c>feed_forward_proj</c> values.</summary>
    public static readonly IReadOnlyList<string> SupportedFeedForwardProjections =
        ["relu", "gelu", "gated-gelu", "gated-relu", "gated-silu"];

    [JsonPropertyName("architectures")] public IReadOnlyList<string>? Architectures { get; init; }

    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32128;

    [JsonPropertyName("d_model")] public int DModel { get; init; } = 512;

    /// <summary>Width of one attention head; the attention's inner width is <c>num_heads * d_kv</c>.</summary>
    [JsonPropertyName("d_kv")] public int DKv { get; init; } = 64;

    [JsonPropertyName("d_ff")] public int DFf { get; init; } = 2048;

    [JsonPropertyName("num_layers")] public int NumLayers { get; init; } = 6;

    [JsonPropertyName("num_heads")] public int NumHeads { get; init; } = 8;

    [JsonPropertyName("relative_attention_num_buckets")] public int RelativeAttentionNumBuckets { get; init; } = 32;

    [JsonPropertyName("relative_attention_max_distance")] public int RelativeAttentionMaxDistance { get; init; } = 128;

    [JsonPropertyName("layer_norm_epsilon")] public double LayerNormEpsilon { get; init; } = 1e-6;

    /// <summary>
    /// Feed-forward kind: <c>gated-ACT</c> multiplies ACT(wi_0 x) by wi_1 x, a plain ACT uses one input matrix
    /// <c>wi</c>. As in transformers, <c>gated-gelu</c> means the tanh approximation (gelu_new).
    /// </summary>
    [JsonPropertyName("feed_forward_proj")] public string FeedForwardProj { get; init; } = "relu";

    /// <summary>Whether the feed-forward is gated (two input matrices).</summary>
    [JsonIgnore] public bool IsGatedAct => FeedForwardProj.StartsWith("gated-", StringComparison.Ordinal);

    /// <summary>The feed-forward activation's name as <see cref="Activations"/> knows it.</summary>
    [JsonIgnore]
    public string DenseActivation => FeedForwardProj == "gated-gelu" ? "gelu_new" : FeedForwardProj.Split('-')[^1];

    /// <summary>Loads and validates a config file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a valid config, or sizes that are not positive.</exception>
    /// <exception cref="NotSupportedException">Another model class, or an unsupported feed-forward kind.</exception>
    public static T5EncoderConfig Load(string path)
    {
        T5EncoderConfig config = TextEncoderConfigFile.Load<T5EncoderConfig>(path);
        TextEncoderConfigFile.RequireArchitecture(path, config.Architectures, SupportedArchitectures);
        config.Validate(path);
        return config;
    }

    /// <summary>Checks sizes and options; <paramref name="source"/> names the config in messages.</summary>
    public void Validate(string source)
    {
        if (VocabSize < 1 || DModel < 1 || DKv < 1 || DFf < 1 || NumLayers < 1 || NumHeads < 1 ||
            RelativeAttentionNumBuckets < 2 || RelativeAttentionMaxDistance < 1 || LayerNormEpsilon <= 0)
        {
            throw new InvalidDataException($"{source}: every size of a T5 config must be positive.");
        }
        if (!SupportedFeedForwardProjections.Contains(FeedForwardProj))
        {
            throw new NotSupportedException(
                $"{source}: feed_forward_proj '{FeedForwardProj}' is not supported; supported: " +
                $"{string.Join(", ", SupportedFeedForwardProjections)}.");
        }
    }
}
