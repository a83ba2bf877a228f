using System.Text.Json;

namespace LatentLab.StableDiffusion;

/// <summary>
/// Reads a diffusers / transformers component config (<c>config.json</c>, <c>scheduler_config.json</c>) into a
/// config record, checking its <c>_class_name</c> first so a folder of another model type is a clear error.
/// </summary>
internal static class ComponentConfigFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Loads <paramref name="path"/> as <typeparamref name="T"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON or a value has the wrong type.</exception>
    /// <exception cref="NotSupportedException">Its <c>_class_name</c> is not one of <paramref name="classNames"/>.</exception>
    public static T Load<T>(string path, params string[] classNames)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: expected a JSON object");
            if (classNames.Length > 0 &&
                document.RootElement.TryGetProperty("_class_name", out JsonElement className) &&
                !classNames.Contains(className.GetString(), StringComparer.Ordinal))
            {
                throw new NotSupportedException(
                    $"{path}: _class_name '{className}' is not supported; supported: {string.Join(", ", classNames)}");
            }
            return document.RootElement.Deserialize<T>(Options)
                   ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: not a valid config ({error.Message})", error);
        }
    }
}
