using TorchSharp;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// What a CLIP text model with projection returns for a batch of token ids. Owns its tensors: dispose it (or move
/// the tensors out of a dispose scope) when done.
/// </summary>
public sealed class ClipTextOutput : IDisposable
{
    internal ClipTextOutput(IReadOnlyList<torch.Tensor> hiddenStates, torch.Tensor lastHiddenState,
        torch.Tensor textEmbeds)
    {
        HiddenStates = hiddenStates;
        LastHiddenState = lastHiddenState;
        TextEmbeds = textEmbeds;
    }

    /// <summary>
    /// [B, L, D] each: index 0 is the embeddings, index i the output of layer i (before the final layer norm).
    /// Stable Diffusion 3 uses the penultimate entry.
    /// </summary>
    public IReadOnlyList<torch.Tensor> HiddenStates { get; }

    /// <summary>[B, L, D]: the last layer's output after the final layer norm.</summary>
    public torch.Tensor LastHiddenState { get; }

    /// <summary>[B, projection_dim]: the end token's final state through the text projection.</summary>
    public torch.Tensor TextEmbeds { get; }

    public void Dispose()
    {
        foreach (torch.Tensor state in HiddenStates) state.Dispose();
        LastHiddenState.Dispose();
        TextEmbeds.Dispose();
    }
}
