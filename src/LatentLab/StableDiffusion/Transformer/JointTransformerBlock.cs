using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// One MMDiT block: image and text streams, each with its own adaLN-Zero modulation and MLP, meeting in one joint
/// attention. The last block is context-pre-only: its text stream is normalised with a continuous adaptive norm,
/// feeds the attention's keys and values, and is then dropped.
/// Checkpoint keys: <c>norm1</c>, <c>norm1_context</c>, <c>attn</c>, <c>ff</c>, <c>ff_context</c>.
/// </summary>
/// <remarks>
/// TODO(#5): MMDiT-X (SD 3.5 Medium) adds <c>attn2</c>, an image-only attention modulated by a nine-way
/// <c>norm1</c> - not needed for SD3 Medium.
/// </remarks>
internal sealed class JointTransformerBlock : nn.Module
{
    private const double Epsilon = 1e-6;
    private readonly AdaLayerNormZero norm1;
    private readonly nn.Module norm1_context; // AdaLayerNormZero, or AdaLayerNormContinuous when context-pre-only
    private readonly JointAttention attn;
    private readonly FeedForward ff;
    private readonly FeedForward? ff_context;

    public JointTransformerBlock(int dim, int heads, int headDim, bool contextPreOnly) : base(nameof(JointTransformerBlock))
    {
        ContextPreOnly = contextPreOnly;
        norm1 = new AdaLayerNormZero(dim);
        norm1_context = contextPreOnly ? new AdaLayerNormContinuous(dim, dim) : new AdaLayerNormZero(dim);
        attn = new JointAttention(dim, heads, headDim, contextPreOnly);
        ff = new FeedForward(dim);
        if (!contextPreOnly) ff_context = new FeedForward(dim);
        RegisterComponents();
    }

    /// <summary>True for the last block, whose text output is discarded.</summary>
    public bool ContextPreOnly { get; }

    /// <param name="image">[B, N, D] image tokens.</param>
    /// <param name="context">[B, L, D] text tokens.</param>
    /// <param name="conditioning">[B, D] timestep + pooled text conditioning.</param>
    /// <returns>The updated text tokens (null for a context-pre-only block) and image tokens.</returns>
    public (Tensor? Context, Tensor Image) forward(Tensor image, Tensor context, Tensor conditioning)
    {
        using var scope = NewDisposeScope();

        // 1. Modulated norms of both streams, then joint attention.
        (Tensor normedImage, Modulation imageMod) = norm1.forward(image, conditioning);
        Tensor normedContext;
        Modulation contextMod = default;
        if (norm1_context is AdaLayerNormZero contextNorm) (normedContext, contextMod) = contextNorm.forward(context, conditioning);
        else normedContext = ((AdaLayerNormContinuous)norm1_context).forward(context, conditioning);
        (Tensor imageAttention, Tensor contextAttention) = attn.forward(normedImage, normedContext);

        // 2. Image stream: gated attention residual, then gated MLP residual on a modulated norm.
        Tensor imageOut = image + imageMod.GateMsa.unsqueeze(1) * imageAttention;
        Tensor imageMlpIn = Float32Norms.LayerNorm(imageOut, null, null, Epsilon)
                            * (imageMod.ScaleMlp.unsqueeze(1) + 1) + imageMod.ShiftMlp.unsqueeze(1);
        imageOut = imageOut + imageMod.GateMlp.unsqueeze(1) * ff.forward(imageMlpIn);
        imageOut.MoveToOuterDisposeScope();
        if (ContextPreOnly) return (null, imageOut);

        // 3. Text stream, the same way with its own parameters.
        Tensor contextOut = context + contextMod.GateMsa.unsqueeze(1) * contextAttention;
        Tensor contextMlpIn = Float32Norms.LayerNorm(contextOut, null, null, Epsilon)
                              * (contextMod.ScaleMlp.unsqueeze(1) + 1) + contextMod.ShiftMlp.unsqueeze(1);
        contextOut = contextOut + contextMod.GateMlp.unsqueeze(1) * ff_context!.forward(contextMlpIn);
        return (contextOut.MoveToOuterDisposeScope(), imageOut);
    }
}
