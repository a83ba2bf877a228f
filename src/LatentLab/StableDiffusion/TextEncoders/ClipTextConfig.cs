using System.Text.Json.Serialization;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// A CLIP text model's <c>config.json</c> (transformers <c>CLIPTextConfig</c>); property names mirror its keys and
/// defaults are transformers' defaults. Stable Diffusion 3 uses two: CLIP ViT-L (hidden 768, 12 layers,
/// quick_gelu) and OpenCLIP ViT-bigG (hidden 1280, 32 layers, gelu).
/// </summary>
public sealed record ClipTextConfig
{
    /// <summary>Model classes this config may name in <c>architectures</c>.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["CLIPTextModelWithProjection"];

    [JsonPropertyName("architectures")] public IReadOnlyList<string>? Architectures { get; init; }

    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;

    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;

    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;

    /// <summary>Width of the projected pooled output (<c>text_embeds</c>).</summary>
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;

    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;

    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;

    /// <summary>Number of positions; token sequences may not be longer.</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;

    /// <summary>MLP activation; see <see cref="Activations.Supported"/>.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "quick_gelu";

    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>
    /// End token id. The value 2 is transformers' legacy marker for old configs: the pooled token is then the one
    /// with the largest id (the end token has the largest id in CLIP's vocabulary); otherwise it is the first
    /// occurrence of this id.
    /// </summary>
    [JsonPropertyName("eos_token_id")] public long EosTokenId { get; init; } = 49407;

    /// <summary>Loads and validates a config file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a valid config, or sizes that do not fit together.</exception>
    /// <exception cref="NotSupportedException">Another model class, or an unsupported activation.</exception>
    public static ClipTextConfig Load(string path)
    {
        ClipTextConfig config = TextEncoderConfigFile.Load<ClipTextConfig>(path);
        TextEncoderConfigFile.RequireArchitecture(path, config.Architectures, SupportedArchitectures);
        config.Validate(path);
        return config;
    }

    /// <summary>Checks sizes and options; <paramref name="source"/> names the config in messages.</summary>
    public void Validate(string source)
    {
        if (VocabSize < 1 || HiddenSize < 1 || IntermediateSize < 1 || ProjectionDim < 1 || NumHiddenLayers < 1 ||
            NumAttentionHeads < 1 || MaxPositionEmbeddings < 1 || LayerNormEps <= 0)
        {
            throw new InvalidDataException($"{source}: every size of a CLIP text config must be positive.");
        }
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new InvalidDataException(
                $"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        }
        Activations.Resolve(HiddenAct, $"{source}: hidden_act");
    }
}
