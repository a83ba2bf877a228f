using Microsoft.ML.Tokenizers;

namespace LatentLab.StableDiffusion.Tokenizers;

/// <summary>
/// T5's SentencePiece unigram tokenizer, loaded from a transformers <c>T5Tokenizer</c> folder (<c>spiece.model</c>,
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>added_tokens.json</c>).
/// </summary>
/// <remarks>
/// The model file is read here and handed to Microsoft.ML.Tokenizers' unigram tokenizer with its precompiled
/// normalization map (T5 uses nmt_nfkc); that library's own file loader cannot open T5's model, which has no
/// start token (bos_id -1). Output: the text's tokens, truncated to leave room for the end token <c>&lt;/s&gt;</c>,
/// then padding with <c>&lt;pad&gt;</c> up to the requested length. T5 has no start token.
/// </remarks>
public sealed class T5Tokenizer
{
    /// <summary>Supported values of <c>tokenizer_class</c>.</summary>
    public static readonly IReadOnlyList<string> SupportedClasses = ["T5Tokenizer", "T5TokenizerFast"];

    private readonly SentencePieceTokenizer _sentencePiece;

    private T5Tokenizer(SentencePieceTokenizer sentencePiece, long eosId, long padId)
    {
        _sentencePiece = sentencePiece;
        EosId = eosId;
        PadId = padId;
    }

    /// <summary>Id of the end token <c>&lt;/s&gt;</c> (1 for T5).</summary>
    public long EosId { get; }

    /// <summary>Id of the pad token <c>&lt;pad&gt;</c> (0 for T5).</summary>
    public long PadId { get; }

    /// <summary>Loads the tokenizer from a folder holding <c>spiece.model</c>.</summary>
    /// <exception cref="FileNotFoundException">spiece.model is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// The model is malformed, not a unigram model, or lacks a token.
    /// </exception>
    public static T5Tokenizer Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string modelPath = Path.Combine(folder, "spiece.model");
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"{modelPath}: T5 SentencePiece model not found.", modelPath);
        }
        TokenizerConfigFile config = TokenizerConfigFile.Read(folder);
        if (config.TokenizerClass is { } tokenizerClass && !SupportedClasses.Contains(tokenizerClass))
        {
            throw new InvalidDataException(
                $"{Path.Combine(folder, "tokenizer_config.json")}: tokenizer_class '{tokenizerClass}' is not " +
                $"supported here; expected one of {string.Join(", ", SupportedClasses)}.");
        }

        SentencePieceModelFile model = SentencePieceModelFile.Parse(File.ReadAllBytes(modelPath), modelPath);
        if (model.Type != SentencePieceModelFile.ModelType.Unigram)
        {
            throw new InvalidDataException(
                $"{modelPath}: SentencePiece model type {model.Type} is not supported; T5 uses Unigram.");
        }
        if (model.NormalizerName is not ("nmt_nfkc" or "nfkc" or "identity" or ""))
        {
            throw new InvalidDataException(
                $"{modelPath}: normalizer '{model.NormalizerName}' is not supported; expected nmt_nfkc, nfkc or " +
                "identity (with a precompiled map).");
        }

        long eosId = TokenId(model, config.SpecialToken("eos_token") ?? "</s>", modelPath);
        long padId = TokenId(model, config.SpecialToken("pad_token") ?? "<pad>", modelPath);

        // The <extra_id_N> sentinels live outside the model file; they are matched whole, as transformers does.
        var addedTokens = config.AddedTokens
            .Where(entry => entry.Value >= model.Pieces.Count)
            .ToDictionary(entry => entry.Key, entry => entry.Value, StringComparer.Ordinal);

        SentencePieceTokenizer sentencePiece;
        try
        {
            sentencePiece = SentencePieceTokenizer.Create(
                model.Pieces.Select(piece => (piece.Piece, piece.Score)),
                model.UnknownId,
                addBeginningOfSentence: false,
                addEndOfSentence: false,
                model.PrecompiledCharsMap,
                model.AddDummyPrefix,
                model.EscapeWhitespaces,
                model.TreatWhitespaceAsSuffix,
                model.ByteFallback,
                addedTokens.Count > 0 ? addedTokens : null);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{modelPath}: cannot build the unigram tokenizer ({error.Message}).",
                error);
        }
        return new T5Tokenizer(sentencePiece, eosId, padId);
    }

    /// <summary>
    /// Encodes one text to exactly <paramref name="maxLength"/> ids: at most <paramref name="maxLength"/> - 1 text
    /// tokens, the end token, then padding.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 1.</exception>
    public TokenizedText Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        // The library returns nothing at all for an empty text; the end token is appended here in every case.
        IReadOnlyList<int> tokens = text.Length == 0 ? [] : _sentencePiece.EncodeToIds(text);
        int kept = Math.Min(tokens.Count, maxLength - 1);

        var ids = new long[maxLength];
        var mask = new long[maxLength];
        Array.Fill(ids, PadId);
        for (int i = 0; i < kept; i++) ids[i] = tokens[i];
        ids[kept] = EosId;
        Array.Fill(mask, 1L, 0, kept + 1);
        return new TokenizedText(ids, mask, tokens.Count - kept);
    }

    private static int TokenId(SentencePieceModelFile model, string token, string modelPath)
    {
        int id = model.Pieces.FindIndex(piece => piece.Piece == token);
        return id >= 0 ? id : throw new InvalidDataException($"{modelPath}: token '{token}' is not in the model.");
    }
}
