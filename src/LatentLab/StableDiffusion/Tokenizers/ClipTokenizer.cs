using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace LatentLab.StableDiffusion.Tokenizers;

/// <summary>
/// CLIP's byte-level BPE tokenizer, loaded from a transformers <c>CLIPTokenizer</c> folder (<c>vocab.json</c>,
/// <c>merges.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>).
/// </summary>
/// <remarks>
/// Text is cleaned as CLIP does (Unicode NFC, runs of whitespace become one space, trimmed, lower-cased), split into
/// contractions, runs of letters, single digits and runs of other characters, and each piece is encoded byte-level
/// with <c>&lt;/w&gt;</c> marking its end; the BPE merges themselves run in Microsoft.ML.Tokenizers, which
/// reproduces transformers' ids on the reference strings. Added tokens of the config are matched whole before that:
/// this is how Stable Diffusion 3's second tokenizer turns a literal <c>!</c> into its pad id.
/// Output: start token, at most <see cref="MaxLength"/> - 2 text tokens, end token, then pad tokens.
/// </remarks>
public sealed partial class ClipTokenizer
{
    /// <summary>Supported values of <c>tokenizer_class</c>.</summary>
    public static readonly IReadOnlyList<string> SupportedClasses = ["CLIPTokenizer", "CLIPTokenizerFast"];

    private const string DefaultBosToken = "<|startoftext|>";
    private const string DefaultEosToken = "<|endoftext|>";

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int maxLength, long bosId, long eosId, long padId)
    {
        _bpe = bpe;
        MaxLength = maxLength;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
    }

    /// <summary>Length of every encoded text (the config's <c>model_max_length</c>; 77 for CLIP).</summary>
    public int MaxLength { get; }

    /// <summary>Id of the start token <c>&lt;|startoftext|&gt;</c>.</summary>
    public long BosId { get; }

    /// <summary>Id of the end token <c>&lt;|endoftext|&gt;</c>.</summary>
    public long EosId { get; }

    /// <summary>Id used for padding: the config's <c>pad_token</c> (the end token, or <c>!</c> for CLIP-G).</summary>
    public long PadId { get; }

    /// <summary>Loads the tokenizer from a folder.</summary>
    /// <exception cref="FileNotFoundException">vocab.json or merges.txt is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// A file cannot be read, or names an unsupported tokenizer class.
    /// </exception>
    public static ClipTokenizer Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string vocabPath = Path.Combine(folder, "vocab.json");
        string mergesPath = Path.Combine(folder, "merges.txt");
        foreach (string path in (string[])[vocabPath, mergesPath])
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: CLIP tokenizer file not found.", path);
        }

        TokenizerConfigFile config = TokenizerConfigFile.Read(folder);
        if (config.TokenizerClass is { } tokenizerClass && !SupportedClasses.Contains(tokenizerClass))
        {
            throw new InvalidDataException(
                $"{Path.Combine(folder, "tokenizer_config.json")}: tokenizer_class '{tokenizerClass}' is not " +
                $"supported here; expected one of {string.Join(", ", SupportedClasses)}.");
        }

        Dictionary<string, int> vocabulary = ReadVocabulary(vocabPath);
        string bosToken = config.SpecialToken("bos_token") ?? DefaultBosToken;
        string eosToken = config.SpecialToken("eos_token") ?? DefaultEosToken;
        string padToken = config.SpecialToken("pad_token") ?? eosToken;
        string unknownToken = config.SpecialToken("unk_token") ?? eosToken;

        // Added tokens are matched whole, before the word split (transformers splits the text on them first).
        var specialTokens = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
        foreach (string token in (string[])[bosToken, eosToken, padToken])
        {
            if (!specialTokens.ContainsKey(token)) specialTokens[token] = Lookup(vocabulary, token, vocabPath);
        }

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocabPath, mergesPath)
            {
                ByteLevel = true,
                EndOfWordSuffix = "</w>",
                UnknownToken = unknownToken,
                SpecialTokens = specialTokens,
                PreTokenizer = new RegexPreTokenizer(WordPattern(), specialTokens),
            });
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or FormatException
                                          or JsonException)
        {
            throw new InvalidDataException($"{folder}: cannot read the CLIP vocabulary or merges ({error.Message}).",
                error);
        }

        int maxLength = config.ModelMaxLength is > 2 and < 100_000 ? config.ModelMaxLength.Value : 77;
        return new ClipTokenizer(bpe, maxLength, specialTokens[bosToken], specialTokens[eosToken],
            specialTokens[padToken]);
    }

    /// <summary>Encodes one text to <see cref="MaxLength"/> ids with start, end and padding.</summary>
    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        IReadOnlyList<EncodedToken> tokens = EncodeClean(Clean(text).ToLowerInvariant());
        int kept = Math.Min(tokens.Count, MaxLength - 2);

        var ids = new long[MaxLength];
        var mask = new long[MaxLength];
        Array.Fill(ids, PadId);
        ids[0] = BosId;
        for (int i = 0; i < kept; i++) ids[i + 1] = tokens[i].Id;
        ids[kept + 1] = EosId;
        Array.Fill(mask, 1L, 0, kept + 2);
        return new TokenizedText(ids, mask, tokens.Count - kept);
    }

    /// <summary>
    /// The words of <paramref name="text"/> (after whitespace clean-up, original case) that do not fit in
    /// <see cref="MaxLength"/> tokens; a word cut in the middle counts as dropped. Empty when everything fits.
    /// </summary>
    public IReadOnlyList<string> TruncatedWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string clean = Clean(text);
        // Lower-casing maps char to char, so offsets in the lower-cased text are offsets in the clean text.
        IReadOnlyList<EncodedToken> tokens = EncodeClean(clean.ToLowerInvariant());
        int budget = MaxLength - 2;
        if (tokens.Count <= budget) return [];

        int cut = tokens[budget].Offset.Start.GetOffset(clean.Length);
        int wordStart = clean.LastIndexOf(' ', Math.Max(cut - 1, 0)) + 1;
        return clean[wordStart..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private IReadOnlyList<EncodedToken> EncodeClean(string clean) =>
        clean.Length == 0 ? [] : _bpe.EncodeToTokens(clean, out _);

    /// <summary>CLIP's text clean-up before lower-casing: NFC, whitespace runs to one space, trimmed.</summary>
    internal static string Clean(string text) =>
        Whitespace().Replace(text.Normalize(NormalizationForm.FormC), " ").Trim();

    private static Dictionary<string, int> ReadVocabulary(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(path))
                   ?? throw new InvalidDataException($"{path}: empty vocabulary.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: expected a JSON object of token to id ({error.Message}).", error);
        }
    }

    private static int Lookup(Dictionary<string, int> vocabulary, string token, string vocabPath) =>
        vocabulary.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"{vocabPath}: special token '{token}' is not in the vocabulary.");

    /// <summary>
    /// CLIP's pre-tokenization: its two special tokens, English contractions, runs of letters, single digits,
    /// runs of other non-space characters.
    /// </summary>
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
