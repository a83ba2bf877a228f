using TorchSharp;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>What the T5 encoder returns. Owns its tensors: dispose it when done.</summary>
public sealed class T5EncoderOutput : IDisposable
{
    internal T5EncoderOutput(torch.Tensor lastHiddenState, IReadOnlyList<torch.Tensor>? hiddenStates)
    {
        LastHiddenState = lastHiddenState;
        HiddenStates = hiddenStates ?? [];
    }

    /// <summary>[B, L, d_model]: the last block's output after the final RMS norm.</summary>
    public torch.Tensor LastHiddenState { get; }

    /// <summary>
    /// Empty unless asked for. Otherwise, as transformers reports them: index 0 the embeddings, index i the input
    /// of block i, and the last entry the final normalised output (the same tensor as
    /// <see cref="LastHiddenState"/>), num_layers + 1 entries in all.
    /// </summary>
    public IReadOnlyList<torch.Tensor> HiddenStates { get; }

    public void Dispose()
    {
        foreach (torch.Tensor state in HiddenStates)
        {
            if (!ReferenceEquals(state, LastHiddenState)) state.Dispose();
        }
        LastHiddenState.Dispose();
    }
}
