using TorchSharp;

namespace LatentLab.StableDiffusion.Tokenizers;

/// <summary>
/// One text as token ids of a fixed length: start and end tokens added, truncated to the length and padded after
/// the end token. The attention mask is 1 for the real tokens (start and end included) and 0 for padding.
/// </summary>
public sealed class TokenizedText
{
    private readonly long[] _inputIds;
    private readonly long[] _attentionMask;

    /// <param name="inputIds">Token ids, already padded to the fixed length.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding; as long as <paramref name="inputIds"/>.</param>
    /// <param name="droppedTokenCount">How many tokens of the text did not fit and were cut off.</param>
    public TokenizedText(long[] inputIds, long[] attentionMask, int droppedTokenCount)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (inputIds.Length != attentionMask.Length)
        {
            throw new ArgumentException(
                $"attention mask has {attentionMask.Length} entries but there are {inputIds.Length} ids.",
                nameof(attentionMask));
        }
        _inputIds = inputIds;
        _attentionMask = attentionMask;
        DroppedTokenCount = droppedTokenCount;
    }

    /// <summary>Token ids, padded to the fixed length.</summary>
    public IReadOnlyList<long> InputIds => _inputIds;

    /// <summary>1 for real tokens (start and end tokens included), 0 for padding.</summary>
    public IReadOnlyList<long> AttentionMask => _attentionMask;

    /// <summary>How many tokens of the text were cut off by truncation (0 if it fitted).</summary>
    public int DroppedTokenCount { get; }

    /// <summary>Stacks the ids of several texts of the same length into an int64 tensor [B, L] on the CPU.</summary>
    /// <exception cref="ArgumentException">Empty list, or texts of different lengths.</exception>
    public static torch.Tensor StackIds(IReadOnlyList<TokenizedText> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("at least one text is needed.", nameof(texts));
        int length = texts[0]._inputIds.Length;
        var ids = new long[texts.Count * length];
        for (int row = 0; row < texts.Count; row++)
        {
            long[] rowIds = texts[row]._inputIds;
            if (rowIds.Length != length)
            {
                throw new ArgumentException(
                    $"text {row} has {rowIds.Length} tokens but text 0 has {length}.", nameof(texts));
            }
            rowIds.CopyTo(ids, row * length);
        }
        return torch.tensor(ids, [texts.Count, length], torch.int64);
    }
}
