using System.Text.Json;

namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// Reads a transformers <c>config.json</c> into a config record, with one-line errors naming the file.
/// </summary>
internal static class TextEncoderConfigFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a JSON object of the expected shape.</exception>
    public static T Load<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found.", path);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Options)
                   ?? throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: not a valid config ({error.Message}).", error);
        }
    }

    /// <summary>
    /// Checks that the config's <c>architectures</c> (when present) names one of the supported classes.
    /// </summary>
    /// <exception cref="NotSupportedException">It names only other classes.</exception>
    public static void RequireArchitecture(string path, IReadOnlyList<string>? architectures,
        IReadOnlyList<string> supported)
    {
        if (architectures is null || architectures.Count == 0) return;
        if (architectures.Any(supported.Contains)) return;
        throw new NotSupportedException(
            $"{path}: architecture {string.Join(", ", architectures)} is not supported here; supported: " +
            $"{string.Join(", ", supported)}.");
    }
}
