using System.Text.Json.Serialization;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// Sizes of the MMDiT, named as the keys of diffusers' <c>transformer/config.json</c>; defaults are diffusers'.
/// SD3 Medium: 24 layers of 24 heads x 64, joint_attention_dim 4096, pooled_projection_dim 2048,
/// caption_projection_dim 1536, pos_embed_max_size 192.
/// </summary>
/// <param name="SampleSize">Latent height/width the position table's base grid was trained at. Default 128.</param>
/// <param name="PatchSize">Side of the square latent patches that become tokens. Default 2.</param>
/// <param name="InChannels">Latent channels in. Default 16.</param>
/// <param name="NumLayers">Joint transformer blocks; the last one is context-pre-only. Default 18.</param>
/// <param name="AttentionHeadDim">Width of one attention head. Default 64.</param>
/// <param name="NumAttentionHeads">Heads per attention; model width D = heads x head dim. Default 18.</param>
/// <param name="JointAttentionDim">Width of the incoming prompt embedding (T5's). Default 4096.</param>
/// <param name="CaptionProjectionDim">Width the prompt embedding is projected to; must equal D. Default 1152.</param>
/// <param name="PooledProjectionDim">Width of the pooled CLIP embedding. Default 2048.</param>
/// <param name="OutChannels">Latent channels out; null means <see cref="InChannels"/>. Default 16.</param>
/// <param name="PosEmbedMaxSize">Side of the stored position table, centre-cropped to the latent grid. Default 96.</param>
/// <param name="DualAttentionLayers">SD 3.5 (MMDiT-X) blocks with a second image-only attention; empty for SD3.</param>
/// <param name="QkNorm">SD 3.5's query/key normalisation ("rms_norm"); null for SD3.</param>
public sealed record SD3TransformerConfig(
    [property: JsonPropertyName("sample_size")] int SampleSize = 128,
    [property: JsonPropertyName("patch_size")] int PatchSize = 2,
    [property: JsonPropertyName("in_channels")] int InChannels = 16,
    [property: JsonPropertyName("num_layers")] int NumLayers = 18,
    [property: JsonPropertyName("attention_head_dim")] int AttentionHeadDim = 64,
    [property: JsonPropertyName("num_attention_heads")] int NumAttentionHeads = 18,
    [property: JsonPropertyName("joint_attention_dim")] int JointAttentionDim = 4096,
    [property: JsonPropertyName("caption_projection_dim")] int CaptionProjectionDim = 1152,
    [property: JsonPropertyName("pooled_projection_dim")] int PooledProjectionDim = 2048,
    [property: JsonPropertyName("out_channels")] int? OutChannels = 16,
    [property: JsonPropertyName("pos_embed_max_size")] int PosEmbedMaxSize = 96,
    [property: JsonPropertyName("dual_attention_layers")] IReadOnlyList<int>? DualAttentionLayers = null,
    [property: JsonPropertyName("qk_norm")] string? QkNorm = null)
{
    /// <summary>The diffusers class name this config belongs to.</summary>
    public const string ClassName = "SD3Transformer2DModel";

    /// <summary>Model width D = heads x head dim.</summary>
    [JsonIgnore]
    public int InnerDim => NumAttentionHeads * AttentionHeadDim;

    /// <summary>Latent channels produced.</summary>
    [JsonIgnore]
    public int ResolvedOutChannels => OutChannels ?? InChannels;

    /// <summary>Reads and validates <c>transformer/config.json</c>.</summary>
    /// <exception cref="InvalidDataException">Not a valid config, or sizes that do not fit together.</exception>
    /// <exception cref="NotSupportedException">Another class, or an SD 3.5 feature not implemented yet.</exception>
    public static SD3TransformerConfig Load(string path)
    {
        var config = ComponentConfigFile.Load<SD3TransformerConfig>(path, ClassName);
        config.Validate(path);
        return config;
    }

    /// <summary>Throws if a size is out of range or a feature is not implemented.</summary>
    public void Validate(string source = "transformer config")
    {
        (string Name, int Value)[] positives =
        [
            ("sample_size", SampleSize), ("patch_size", PatchSize), ("in_channels", InChannels),
            ("num_layers", NumLayers), ("attention_head_dim", AttentionHeadDim),
            ("num_attention_heads", NumAttentionHeads), ("joint_attention_dim", JointAttentionDim),
            ("caption_projection_dim", CaptionProjectionDim), ("pooled_projection_dim", PooledProjectionDim),
            ("out_channels", ResolvedOutChannels), ("pos_embed_max_size", PosEmbedMaxSize),
        ];
        foreach ((string name, int value) in positives)
        {
            if (value < 1) throw new InvalidDataException($"{source}: {name} must be at least 1, got {value}");
        }
        if (CaptionProjectionDim != InnerDim)
        {
            throw new InvalidDataException(
                $"{source}: caption_projection_dim ({CaptionProjectionDim}) must equal num_attention_heads x " +
                $"attention_head_dim ({InnerDim}), since text and image tokens share the joint attention");
        }
        // TODO(#5): SD 3.5's qk_norm (RMS norm of queries and keys) and MMDiT-X dual attention layers - SD3 Medium
        // has neither; JointAttention and JointTransformerBlock are laid out so both can be added from the config.
        if (QkNorm is not null)
        {
            throw new NotSupportedException(
                $"{source}: qk_norm '{QkNorm}' (Stable Diffusion 3.5) is not supported yet; supported: null (SD3)");
        }
        if (DualAttentionLayers is { Count: > 0 })
        {
            throw new NotSupportedException(
                $"{source}: dual_attention_layers (Stable Diffusion 3.5 Medium, MMDiT-X) are not supported yet; " +
                "supported: an empty list (SD3)");
        }
    }
}
