using System.Text.Json;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>
/// Reads a diffusers <c>model_index.json</c> and checks that the pipeline and every component present is a class
/// this port implements, so that a folder of another model is one clear error before anything is loaded.
/// </summary>
internal static class ModelIndex
{
    public const string PipelineClass = "StableDiffusion3Pipeline";

    /// <summary>Supported classes per component folder.</summary>
    public static IReadOnlyDictionary<string, string[]> SupportedComponents { get; } = new Dictionary<string, string[]>
    {
        ["transformer"] = ["SD3Transformer2DModel"],
        ["vae"] = ["AutoencoderKL"],
        ["scheduler"] = ["FlowMatchEulerDiscreteScheduler"],
        ["text_encoder"] = ["CLIPTextModelWithProjection"],
        ["text_encoder_2"] = ["CLIPTextModelWithProjection"],
        ["text_encoder_3"] = ["T5EncoderModel"],
        ["tokenizer"] = ["CLIPTokenizer", "CLIPTokenizerFast"],
        ["tokenizer_2"] = ["CLIPTokenizer", "CLIPTokenizerFast"],
        ["tokenizer_3"] = ["T5Tokenizer", "T5TokenizerFast"],
    };

    private static readonly string[] Required = ["transformer", "vae", "scheduler"];

    /// <summary>Validates the folder's model index; returns the names of the components it has.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No model_index.json in it.</exception>
    /// <exception cref="InvalidDataException">Broken JSON, or a required component missing.</exception>
    /// <exception cref="NotSupportedException">Another pipeline, or a component class not implemented.</exception>
    public static IReadOnlySet<string> Read(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such model folder");
        string path = Path.Combine(folder, "model_index.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{folder}: no model_index.json; expected a diffusers Stable Diffusion 3 folder such as " +
                "stabilityai/stable-diffusion-3-medium-diffusers", path);
        }
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            root = document.RootElement.Clone();
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({error.Message})", error);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");

        string? pipeline = root.TryGetProperty("_class_name", out JsonElement name) ? name.GetString() : null;
        if (pipeline != PipelineClass)
        {
            throw new NotSupportedException(
                $"{path}: pipeline class '{pipeline}' is not supported; supported: {PipelineClass}");
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty component in root.EnumerateObject())
        {
            if (component.Name.StartsWith('_')) continue;
            string? className = component.Value.ValueKind == JsonValueKind.Array && component.Value.GetArrayLength() == 2
                ? component.Value[1].GetString()
                : null;
            if (className is null) continue; // [null, null]: the component is absent (an optional one, e.g. T5)
            if (!SupportedComponents.TryGetValue(component.Name, out string[]? supported))
            {
                throw new NotSupportedException(
                    $"{path}: component '{component.Name}' ({className}) is not supported; supported components: " +
                    string.Join(", ", SupportedComponents.Keys));
            }
            if (!supported.Contains(className, StringComparer.Ordinal))
            {
                throw new NotSupportedException(
                    $"{path}: {component.Name} class '{className}' is not supported; supported: {string.Join(", ", supported)}");
            }
            present.Add(component.Name);
        }
        string? missing = Required.FirstOrDefault(required => !present.Contains(required));
        if (missing is not null) throw new InvalidDataException($"{path}: required component '{missing}' is missing");
        return present;
    }
}
