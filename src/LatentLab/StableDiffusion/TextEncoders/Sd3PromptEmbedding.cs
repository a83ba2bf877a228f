using TorchSharp;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// Stable Diffusion 3's conditioning for a batch of prompts: the joint token sequence the transformer attends to and
/// the pooled vector that joins its timestep embedding. Owns both tensors.
/// </summary>
public sealed class Sd3PromptEmbedding : IDisposable
{
    /// <param name="sequence">[B, 77 + T5 length, D_joint]</param>
    /// <param name="pooled">[B, D_pooled]</param>
    /// <exception cref="ArgumentException">The batch sizes differ.</exception>
    public Sd3PromptEmbedding(torch.Tensor sequence, torch.Tensor pooled)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(pooled);
        if (sequence.dim() != 3 || pooled.dim() != 2 || sequence.shape[0] != pooled.shape[0])
        {
            throw new ArgumentException(
                "expected a sequence [B, L, D] and pooled [B, D] with one B; got " +
                $"[{string.Join(", ", sequence.shape)}]" +
                $" and [{string.Join(", ", pooled.shape)}].");
        }
        Sequence = sequence;
        Pooled = pooled;
    }

    /// <summary>
    /// [B, 77 + T5 length, D_joint]: CLIP-L's and CLIP-G's penultimate hidden states side by side, zero-padded to
    /// the T5 width, followed by T5's last hidden state (or zeros without T5).
    /// </summary>
    public torch.Tensor Sequence { get; }

    /// <summary>[B, D_pooled]: CLIP-L's and CLIP-G's projected end-token states side by side.</summary>
    public torch.Tensor Pooled { get; }

    public void Dispose()
    {
        Sequence.Dispose();
        Pooled.Dispose();
    }
}
