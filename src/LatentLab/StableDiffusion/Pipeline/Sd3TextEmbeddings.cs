using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>
/// The four conditioning tensors of a text-to-image run, as the chapter's <c>encode_text</c> returns them:
/// positive and negative joint sequences and positive and negative pooled vectors. Owns the tensors.
/// </summary>
public sealed class Sd3TextEmbeddings : IDisposable
{
    /// <param name="promptEmbeds">[B, L, D] positive joint sequence.</param>
    /// <param name="negativePromptEmbeds">[B, L, D] negative joint sequence.</param>
    /// <param name="pooledPromptEmbeds">[B, Dp] positive pooled embedding.</param>
    /// <param name="negativePooledPromptEmbeds">[B, Dp] negative pooled embedding.</param>
    /// <exception cref="ArgumentException">Shapes that do not pair up.</exception>
    public Sd3TextEmbeddings(Tensor promptEmbeds, Tensor negativePromptEmbeds, Tensor pooledPromptEmbeds,
        Tensor negativePooledPromptEmbeds)
    {
        ArgumentNullException.ThrowIfNull(promptEmbeds);
        ArgumentNullException.ThrowIfNull(negativePromptEmbeds);
        ArgumentNullException.ThrowIfNull(pooledPromptEmbeds);
        ArgumentNullException.ThrowIfNull(negativePooledPromptEmbeds);
        if (promptEmbeds.dim() != 3 || pooledPromptEmbeds.dim() != 2 ||
            !promptEmbeds.shape.SequenceEqual(negativePromptEmbeds.shape) ||
            !pooledPromptEmbeds.shape.SequenceEqual(negativePooledPromptEmbeds.shape) ||
            promptEmbeds.shape[0] != pooledPromptEmbeds.shape[0])
        {
            throw new ArgumentException(
                $"expected sequences [B, L, D] and pooled [B, Dp] with matching shapes; got " +
                $"[{string.Join(", ", promptEmbeds.shape)}], [{string.Join(", ", negativePromptEmbeds.shape)}], " +
                $"[{string.Join(", ", pooledPromptEmbeds.shape)}], [{string.Join(", ", negativePooledPromptEmbeds.shape)}]");
        }
        PromptEmbeds = promptEmbeds;
        NegativePromptEmbeds = negativePromptEmbeds;
        PooledPromptEmbeds = pooledPromptEmbeds;
        NegativePooledPromptEmbeds = negativePooledPromptEmbeds;
    }

    /// <summary>[B, L, D] joint sequence of the prompts.</summary>
    public Tensor PromptEmbeds { get; }

    /// <summary>[B, L, D] joint sequence of the negative prompts.</summary>
    public Tensor NegativePromptEmbeds { get; }

    /// <summary>[B, Dp] pooled embedding of the prompts.</summary>
    public Tensor PooledPromptEmbeds { get; }

    /// <summary>[B, Dp] pooled embedding of the negative prompts.</summary>
    public Tensor NegativePooledPromptEmbeds { get; }

    /// <summary>Number of prompts B.</summary>
    public long BatchSize => PromptEmbeds.shape[0];

    public void Dispose()
    {
        PromptEmbeds.Dispose();
        NegativePromptEmbeds.Dispose();
        PooledPromptEmbeds.Dispose();
        NegativePooledPromptEmbeds.Dispose();
    }
}
