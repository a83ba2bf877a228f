using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// Stable Diffusion 3's MMDiT (diffusers' <c>SD3Transformer2DModel</c>): predicts the flow velocity of noisy
/// latents from the timestep, the joint prompt embedding and the pooled prompt embedding. Every size comes from
/// <see cref="SD3TransformerConfig"/>; module names equal the checkpoint's keys, so diffusers weights load by name.
/// </summary>
public sealed class SD3Transformer2DModel : nn.Module
{
    private readonly PatchEmbed pos_embed;
    private readonly CombinedTimestepTextProjEmbeddings time_text_embed;
    private readonly Linear context_embedder;
    private readonly ModuleList<JointTransformerBlock> transformer_blocks;
    private readonly AdaLayerNormContinuous norm_out;
    private readonly Linear proj_out;

    /// <summary>Builds the model with freshly initialised weights (load real ones with the weights loader).</summary>
    /// <exception cref="InvalidDataException">Sizes that do not fit together.</exception>
    /// <exception cref="NotSupportedException">SD 3.5 features (qk_norm, dual attention layers).</exception>
    public SD3Transformer2DModel(SD3TransformerConfig config) : base(nameof(SD3Transformer2DModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int dim = config.InnerDim;
        pos_embed = new PatchEmbed(config);
        time_text_embed = new CombinedTimestepTextProjEmbeddings(dim, config.PooledProjectionDim);
        context_embedder = nn.Linear(config.JointAttentionDim, config.CaptionProjectionDim);
        transformer_blocks = nn.ModuleList<JointTransformerBlock>();
        for (int i = 0; i < config.NumLayers; i++)
        {
            transformer_blocks.Add(new JointTransformerBlock(
                dim, config.NumAttentionHeads, config.AttentionHeadDim, contextPreOnly: i == config.NumLayers - 1));
        }
        norm_out = new AdaLayerNormContinuous(dim, dim);
        proj_out = nn.Linear(dim, config.PatchSize * config.PatchSize * config.ResolvedOutChannels);
        RegisterComponents();
    }

    /// <summary>The sizes this model was built from.</summary>
    public SD3TransformerConfig Config { get; }

    /// <summary>Predicts the velocity for a batch of noisy latents.</summary>
    /// <param name="latents">[B, C, H, W] noisy latents; H and W multiples of the patch size.</param>
    /// <param name="promptEmbeds">[B, L, joint_attention_dim] joint prompt embedding.</param>
    /// <param name="pooledPromptEmbeds">[B, pooled_projection_dim] pooled prompt embedding.</param>
    /// <param name="timesteps">[B] model timesteps (sigma x 1000).</param>
    /// <returns>[B, C_out, H, W] in the model's dtype.</returns>
    public Tensor forward(Tensor latents, Tensor promptEmbeds, Tensor pooledPromptEmbeds, Tensor timesteps)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(promptEmbeds);
        ArgumentNullException.ThrowIfNull(pooledPromptEmbeds);
        ArgumentNullException.ThrowIfNull(timesteps);
        int patch = Config.PatchSize;
        if (latents.dim() != 4 || latents.shape[2] % patch != 0 || latents.shape[3] % patch != 0)
        {
            throw new ArgumentException(
                $"latents must be [B, C, H, W] with H and W multiples of {patch}, got [{string.Join(", ", latents.shape)}]");
        }
        ScalarType dtype = proj_out.weight!.dtype;
        using var scope = NewDisposeScope();
        long batch = latents.shape[0];
        long height = latents.shape[2] / patch;
        long width = latents.shape[3] / patch;

        // 1. Tokens for both streams and the conditioning vector.
        Tensor image = pos_embed.forward(latents.to(dtype)); // [B, h*w, D]
        Tensor conditioning = time_text_embed.forward(timesteps, pooledPromptEmbeds.to(dtype)); // [B, D]
        Tensor context = context_embedder.forward(promptEmbeds.to(dtype)); // [B, L, D]

        // 2. The joint blocks; the last returns no text stream.
        foreach (JointTransformerBlock block in transformer_blocks)
        {
            (Tensor? nextContext, image) = block.forward(image, context, conditioning);
            context = nextContext ?? context;
        }

        // 3. Adaptive norm out, per-token patch pixels, unpatchify.
        Tensor patches = proj_out.forward(norm_out.forward(image, conditioning)); // [B, h*w, p*p*C]
        Tensor output = patches.reshape(batch, height, width, patch, patch, -1) // [B, h, w, p, p, C]
            .permute(0, 5, 1, 3, 2, 4) // [B, C, h, p, w, p]
            .reshape(batch, -1, height * patch, width * patch); // [B, C, H, W]
        return output.MoveToOuterDisposeScope();
    }

    // Inner stages, exposed to the tests that locate a mismatch against the reference's intermediate outputs.
    internal PatchEmbed PosEmbed => pos_embed;
    internal CombinedTimestepTextProjEmbeddings TimeTextEmbed => time_text_embed;
    internal Linear ContextEmbedder => context_embedder;
    internal ModuleList<JointTransformerBlock> Blocks => transformer_blocks;
    internal AdaLayerNormContinuous NormOut => norm_out;
}
