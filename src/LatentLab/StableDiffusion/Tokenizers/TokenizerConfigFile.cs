using System.Text.Json;

namespace LatentLab.StableDiffusion.Tokenizers;

/// <summary>
/// The parts of a transformers tokenizer folder's <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>
/// that the tokenizers need. A special token is written either as a string or as an object with a
/// <c>content</c> field; the special tokens map overrides the config, as transformers does when loading.
/// </summary>
internal sealed class TokenizerConfigFile
{
    private readonly Dictionary<string, string> _specialTokens = new(StringComparer.Ordinal);

    private TokenizerConfigFile(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    /// <summary>The <c>tokenizer_class</c> entry, or null when the folder has no config.</summary>
    public string? TokenizerClass { get; private set; }

    /// <summary>The <c>model_max_length</c> entry, or null.</summary>
    public int? ModelMaxLength { get; private set; }

    /// <summary>Added tokens by id (<c>added_tokens_decoder</c> of the config, or <c>added_tokens.json</c>).</summary>
    public Dictionary<string, int> AddedTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>A special token such as <c>pad_token</c> or <c>eos_token</c>, or null when not given.</summary>
    public string? SpecialToken(string key) => _specialTokens.GetValueOrDefault(key);

    public static TokenizerConfigFile Read(string folder)
    {
        var file = new TokenizerConfigFile(folder);
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using JsonDocument config = Parse(configPath);
            JsonElement root = config.RootElement;
            if (root.TryGetProperty("tokenizer_class", out JsonElement tokenizerClass) &&
                tokenizerClass.ValueKind == JsonValueKind.String)
            {
                file.TokenizerClass = tokenizerClass.GetString();
            }
            if (root.TryGetProperty("model_max_length", out JsonElement maxLength) &&
                maxLength.ValueKind == JsonValueKind.Number && maxLength.TryGetInt32(out int length))
            {
                file.ModelMaxLength = length;
            }
            if (root.TryGetProperty("added_tokens_decoder", out JsonElement decoder) &&
                decoder.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty entry in decoder.EnumerateObject())
                {
                    string? content = TokenText(entry.Value);
                    if (content is not null && int.TryParse(entry.Name, out int id)) file.AddedTokens[content] = id;
                }
            }
            file.ReadSpecialTokens(root);
        }

        string addedPath = Path.Combine(folder, "added_tokens.json");
        if (File.Exists(addedPath))
        {
            using JsonDocument added = Parse(addedPath);
            foreach (JsonProperty entry in added.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Number)
                {
                    file.AddedTokens[entry.Name] = entry.Value.GetInt32();
                }
            }
        }

        string mapPath = Path.Combine(folder, "special_tokens_map.json");
        if (File.Exists(mapPath))
        {
            using JsonDocument map = Parse(mapPath);
            file.ReadSpecialTokens(map.RootElement);
        }
        return file;
    }

    private void ReadSpecialTokens(JsonElement root)
    {
        foreach (string key in (string[])["bos_token", "eos_token", "pad_token", "unk_token"])
        {
            if (root.TryGetProperty(key, out JsonElement value) && TokenText(value) is { } text)
            {
                _specialTokens[key] = text;
            }
        }
    }

    private static string? TokenText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) &&
                                  content.ValueKind == JsonValueKind.String => content.GetString(),
        _ => null,
    };

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({error.Message}).", error);
        }
    }
}
