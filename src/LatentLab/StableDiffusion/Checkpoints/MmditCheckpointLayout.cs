using System.Globalization;
using System.Text.RegularExpressions;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Weights;

namespace LatentLab.StableDiffusion.Checkpoints;

/// <summary>
/// Stability's original MMDiT layout (<c>model.diffusion_model.*</c> in their single files) as diffusers'
/// <c>SD3Transformer2DModel</c> names: fused <c>qkv</c> projections split into q, k and v; <c>adaLN_modulation.1</c>
/// as <c>norm1.linear</c>; <c>x_embedder</c>, <c>t_embedder</c>, <c>y_embedder</c>, <c>final_layer</c> renamed; the
/// two final adaptive norms (<c>final_layer</c>, the last block's context norm) with their halves swapped; qk norms
/// <c>ln_q</c>/<c>ln_k</c> as <c>norm_q</c>/<c>norm_k</c> (<c>norm_added_*</c> for the text stream); MMDiT-X's
/// <c>attn2</c>. Facts from diffusers' <c>convert_sd3_transformer_checkpoint_to_diffusers</c>.
/// </summary>
internal static partial class MmditCheckpointLayout
{
    /// <summary>Key prefix of the diffusion model in Stability's single files.</summary>
    public const string Prefix = "model.diffusion_model.";

    /// <summary>Width of one head in every released MMDiT: the original code builds depth heads of 64.</summary>
    public const int ConventionalHeadDim = 64;

    /// <summary>Side of the latent grid every SD3 / SD 3.5 release was trained at (1024 pixels).</summary>
    public const int ReleasedSampleSize = 128;

    private static readonly Dictionary<string, string> TopLevel = new(StringComparer.Ordinal)
    {
        ["x_embedder.proj.weight"] = "pos_embed.proj.weight",
        ["x_embedder.proj.bias"] = "pos_embed.proj.bias",
        ["pos_embed"] = "pos_embed.pos_embed",
        ["t_embedder.mlp.0.weight"] = "time_text_embed.timestep_embedder.linear_1.weight",
        ["t_embedder.mlp.0.bias"] = "time_text_embed.timestep_embedder.linear_1.bias",
        ["t_embedder.mlp.2.weight"] = "time_text_embed.timestep_embedder.linear_2.weight",
        ["t_embedder.mlp.2.bias"] = "time_text_embed.timestep_embedder.linear_2.bias",
        ["y_embedder.mlp.0.weight"] = "time_text_embed.text_embedder.linear_1.weight",
        ["y_embedder.mlp.0.bias"] = "time_text_embed.text_embedder.linear_1.bias",
        ["y_embedder.mlp.2.weight"] = "time_text_embed.text_embedder.linear_2.weight",
        ["y_embedder.mlp.2.bias"] = "time_text_embed.text_embedder.linear_2.bias",
        ["context_embedder.weight"] = "context_embedder.weight",
        ["context_embedder.bias"] = "context_embedder.bias",
        ["final_layer.linear.weight"] = "proj_out.weight",
        ["final_layer.linear.bias"] = "proj_out.bias",
    };

    // Per-block renames: original "<stream>.<module>" -> diffusers module (weight/bias suffix kept).
    private static readonly Dictionary<string, string> BlockModules = new(StringComparer.Ordinal)
    {
        ["x_block.attn.proj"] = "attn.to_out.0",
        ["context_block.attn.proj"] = "attn.to_add_out",
        ["x_block.attn.ln_q"] = "attn.norm_q",
        ["x_block.attn.ln_k"] = "attn.norm_k",
        ["context_block.attn.ln_q"] = "attn.norm_added_q",
        ["context_block.attn.ln_k"] = "attn.norm_added_k",
        ["x_block.attn2.proj"] = "attn2.to_out.0",
        ["x_block.attn2.ln_q"] = "attn2.norm_q",
        ["x_block.attn2.ln_k"] = "attn2.norm_k",
        ["x_block.adaLN_modulation.1"] = "norm1.linear",
        ["x_block.mlp.fc1"] = "ff.net.0.proj",
        ["x_block.mlp.fc2"] = "ff.net.2",
        ["context_block.mlp.fc1"] = "ff_context.net.0.proj",
        ["context_block.mlp.fc2"] = "ff_context.net.2",
    };

    private static readonly Dictionary<string, string[]> FusedQkv = new(StringComparer.Ordinal)
    {
        ["x_block.attn.qkv"] = ["attn.to_q", "attn.to_k", "attn.to_v"],
        ["context_block.attn.qkv"] = ["attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"],
        ["x_block.attn2.qkv"] = ["attn2.to_q", "attn2.to_k", "attn2.to_v"],
    };

    private const string FinalNorm = "final_layer.adaLN_modulation.1.";

    [GeneratedRegex(@"^joint_blocks\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex BlockKey();

    /// <summary>Whether the file holds an MMDiT in this layout.</summary>
    public static bool IsPresent(ITensorSource file) => file.Names.Contains(Prefix + "x_embedder.proj.weight");

    /// <summary>
    /// The transformer's tensors under diffusers' names. Tensors this layout does not know keep their original name,
    /// so strict loading reports them by name rather than silently dropping them.
    /// </summary>
    public static TensorView View(ITensorSource file)
    {
        int lastBlock = BlockIndices(file).Max();
        var view = new TensorView(file, $"{file.Description} ({Prefix}*)");
        foreach (string name in file.Names.Where(name => name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            string key = name[Prefix.Length..];
            if (TopLevel.TryGetValue(key, out string? target))
            {
                view.Rename(name, target);
            }
            else if (key.StartsWith(FinalNorm, StringComparison.Ordinal))
            {
                view.SwapHalves(name, "norm_out.linear." + key[FinalNorm.Length..]);
            }
            else if (BlockKey().Match(key) is { Success: true } match)
            {
                int block = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                string module = match.Groups[2].Value;
                string suffix = match.Groups[3].Value;
                string prefix = $"transformer_blocks.{block}.";
                if (FusedQkv.TryGetValue(module, out string[]? parts))
                {
                    for (int i = 0; i < 3; i++) view.Chunk(name, i, 3, $"{prefix}{parts[i]}.{suffix}");
                }
                else if (module == "context_block.adaLN_modulation.1")
                {
                    // The last block's context norm is a continuous adaptive norm: (shift, scale) swapped.
                    if (block == lastBlock) view.SwapHalves(name, $"{prefix}norm1_context.linear.{suffix}");
                    else view.Rename(name, $"{prefix}norm1_context.linear.{suffix}");
                }
                else if (BlockModules.TryGetValue(module, out string? renamed))
                {
                    view.Rename(name, $"{prefix}{renamed}.{suffix}");
                }
                else
                {
                    view.Rename(name, name);
                }
            }
            else
            {
                view.Rename(name, name);
            }
        }
        return view;
    }

    /// <summary>
    /// The transformer's sizes from its tensors' shapes: depth from the <c>joint_blocks</c>, width, input channels
    /// and patch size from <c>x_embedder</c>, the position table's side from <c>pos_embed</c>, qk norm from
    /// <c>ln_q</c> (whose length is the head width), dual attention layers from <c>attn2</c>. Two sizes the
    /// tensors do not fix take the released models' values unless given: heads of <paramref name="headDim"/>
    /// (default <see cref="ConventionalHeadDim"/>) without qk norm, and a sample size of
    /// <see cref="ReleasedSampleSize"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Shapes that do not make an MMDiT; the last block not context-pre-only.</exception>
    public static SD3TransformerConfig InferConfig(ITensorSource file, int? headDim = null)
    {
        string source = file.Description;
        List<int> blocks = BlockIndices(file);
        int numLayers = blocks.Max() + 1;
        if (blocks.Count != numLayers)
            throw new InvalidDataException($"{source}: joint_blocks are not numbered 0..{numLayers - 1} without gaps.");

        long[] patchKernel = Shape(file, "x_embedder.proj.weight"); // [D, C, p, p]
        if (patchKernel is not [_, _, _, _] || patchKernel[2] != patchKernel[3])
            throw new InvalidDataException($"{source}: x_embedder.proj.weight is not a square patch kernel.");
        int dim = (int)patchKernel[0];
        int patch = (int)patchKernel[2];

        long[] table = Shape(file, "pos_embed"); // [1, M*M, D]
        int maxSize = (int)Math.Round(Math.Sqrt(table[^2]));
        if (table.Length != 3 || (long)maxSize * maxSize != table[^2] || table[^1] != dim)
            throw new InvalidDataException($"{source}: pos_embed [{string.Join(", ", table)}] is not a square table of width {dim}.");

        string lnQ = Prefix + "joint_blocks.0.x_block.attn.ln_q.weight";
        bool qkNorm = file.Names.Contains(lnQ);
        int heads = qkNorm ? (int)file.ShapeOf(lnQ)[0] : headDim ?? ConventionalHeadDim;
        if (heads < 1 || dim % heads != 0)
        {
            throw new InvalidDataException(
                $"{source}: width {dim} is not a multiple of the head width {heads}" +
                (qkNorm ? "." : " (without qk norm the file does not say the head width; give a config that does)."));
        }

        string lastContext = $"{Prefix}joint_blocks.{numLayers - 1}.context_block.";
        if (file.Names.Contains(lastContext + "mlp.fc1.weight"))
        {
            throw new InvalidDataException(
                $"{source}: the last joint block has a context MLP; SD3 models end with a context-pre-only block.");
        }

        List<int> dual = blocks
            .Where(block => file.Names.Contains($"{Prefix}joint_blocks.{block}.x_block.attn2.qkv.weight"))
            .ToList();
        int outChannels = (int)(Shape(file, "final_layer.linear.weight")[0] / (patch * patch));
        var config = new SD3TransformerConfig(
            SampleSize: ReleasedSampleSize,
            PatchSize: patch,
            InChannels: (int)patchKernel[1],
            NumLayers: numLayers,
            AttentionHeadDim: heads,
            NumAttentionHeads: dim / heads,
            JointAttentionDim: (int)Shape(file, "context_embedder.weight")[1],
            CaptionProjectionDim: dim,
            PooledProjectionDim: (int)Shape(file, "y_embedder.mlp.0.weight")[1],
            OutChannels: outChannels,
            PosEmbedMaxSize: maxSize,
            DualAttentionLayers: dual,
            QkNorm: qkNorm ? SD3TransformerConfig.RmsNormName : null);
        config.Validate(source);
        return config;
    }

    /// <summary>
    /// Whether <paramref name="given"/> (a diffusers config) describes the same tensors as the file: every size the
    /// shapes fix agrees, so the given config may supply what the shapes do not (head width, sample size).
    /// </summary>
    public static bool Fits(SD3TransformerConfig given, SD3TransformerConfig inferred) =>
        given.PatchSize == inferred.PatchSize && given.InChannels == inferred.InChannels &&
        given.NumLayers == inferred.NumLayers && given.InnerDim == inferred.InnerDim &&
        given.JointAttentionDim == inferred.JointAttentionDim &&
        given.PooledProjectionDim == inferred.PooledProjectionDim &&
        given.ResolvedOutChannels == inferred.ResolvedOutChannels &&
        given.PosEmbedMaxSize == inferred.PosEmbedMaxSize && given.UsesQkNorm == inferred.UsesQkNorm &&
        (given.DualAttentionLayers ?? []).Order().SequenceEqual(inferred.DualAttentionLayers ?? []) &&
        (!inferred.UsesQkNorm || given.AttentionHeadDim == inferred.AttentionHeadDim);

    private static List<int> BlockIndices(ITensorSource file)
    {
        var blocks = new SortedSet<int>();
        foreach (string name in file.Names)
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            Match match = BlockKey().Match(name[Prefix.Length..]);
            if (match.Success) blocks.Add(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        return blocks.Count > 0
            ? [.. blocks]
            : throw new InvalidDataException($"{file.Description}: no {Prefix}joint_blocks.* tensors.");
    }

    private static long[] Shape(ITensorSource file, string key) =>
        file.Names.Contains(Prefix + key)
            ? file.ShapeOf(Prefix + key)
            : throw new InvalidDataException($"{file.Description}: no tensor {Prefix}{key}; not an SD3 checkpoint.");
}
