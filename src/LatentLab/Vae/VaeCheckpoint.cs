using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LatentLab.Training;
using LatentLab.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Vae;

/// <summary>
/// Reads and writes VAE checkpoints: a folder with <c>model.safetensors</c> (the state_dict, readable by PyTorch's
/// <c>safetensors.torch.load_file</c>) and <c>config.json</c> (the <see cref="VaeConfig"/> plus
/// <c>"model_type": "vae"</c>). A training checkpoint adds <c>optimizer.safetensors</c> (Adam moments by parameter
/// name, step in the metadata), <c>rng.safetensors</c> (the sampler's generator state) and
/// <c>trainer_state.json</c> (epoch, step, loss history, options).
/// </summary>
/// <remarks>
/// A training run's folder holds the latest checkpoint in <c>checkpoint/</c>; every path argument accepts the run
/// folder, the checkpoint folder, or its <c>model.safetensors</c>.
/// </remarks>
public static class VaeCheckpoint
{
    /// <summary>The <c>model_type</c> written in <c>config.json</c> and in the weights' metadata.</summary>
    public const string ModelType = "vae";

    /// <summary>File name of the weights.</summary>
    public const string WeightsFile = "model.safetensors";

    /// <summary>File name of the config.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Name of the checkpoint folder inside a training run's folder.</summary>
    public const string RunCheckpointFolder = "checkpoint";

    internal const string OptimizerFile = "optimizer.safetensors";
    internal const string RngFile = "rng.safetensors";
    internal const string TrainerStateFile = "trainer_state.json";
    internal const string SamplerGeneratorKey = "sampler_generator";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private static readonly JsonSerializerOptions CompactJson = new(Json) { WriteIndented = false };

    /// <summary>Writes the weights and config of <paramref name="vae"/> into <paramref name="directory"/>.</summary>
    public static void SaveModel(Vae vae, string directory)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["model_type"] = ModelType,
            ["config"] = JsonSerializer.Serialize(vae.Config, CompactJson),
        };
        ModuleWeights.Save(vae, Path.Combine(directory, WeightsFile), metadata);
        JsonObject config = new() { ["model_type"] = ModelType };
        foreach ((string key, JsonNode? value) in JsonSerializer.SerializeToNode(vae.Config, Json)!.AsObject())
        {
            config[key] = value?.DeepClone();
        }
        AtomicFiles.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(Json) + "\n");
    }

    /// <summary>Loads a VAE from a checkpoint folder, a run folder, or a <c>model.safetensors</c> path.</summary>
    /// <exception cref="FileNotFoundException">No checkpoint at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">A checkpoint of another model, or weights that do not fit.</exception>
    public static Vae Load(string path, Device? device = null)
    {
        string directory = ResolveDirectory(path);
        VaeConfig config = ReadConfig(directory);
        var vae = new Vae(config);
        try
        {
            using TensorSource source = TensorSource.OpenFile(Path.Combine(directory, WeightsFile));
            ModuleWeights.Load(vae, source);
            if (device is not null && device.type != DeviceType.CPU) vae.to(device);
            return vae;
        }
        catch
        {
            vae.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The checkpoint folder <paramref name="path"/> designates: itself when it holds <c>model.safetensors</c>,
    /// its <c>checkpoint/</c> subfolder for a run folder, or the folder of a given <c>model.safetensors</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">None of these exist.</exception>
    public static string ResolveDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (File.Exists(full)) return Path.GetDirectoryName(full)!;
        if (File.Exists(Path.Combine(full, WeightsFile)) || File.Exists(Path.Combine(full, ConfigFile))) return full;
        string inRun = Path.Combine(full, RunCheckpointFolder);
        if (File.Exists(Path.Combine(inRun, WeightsFile))) return inRun;
        throw new FileNotFoundException(
            $"no VAE checkpoint at {path}: expected a run folder (with {RunCheckpointFolder}/), or a folder with " +
            $"{WeightsFile} and {ConfigFile}.", path);
    }

    /// <summary>Reads and validates <c>config.json</c> of a checkpoint folder, checking it is a VAE's.</summary>
    /// <exception cref="InvalidDataException">Missing, unreadable, another model's, or out of range.</exception>
    public static VaeConfig ReadConfig(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
        {
            throw new InvalidDataException(
                $"{directory} has no {ConfigFile}, so it is not a LatentLab VAE checkpoint.");
        }
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                ?? throw new InvalidDataException($"{path}: empty JSON.");
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a JSON object ({error.Message}).", error);
        }
        string? modelType = json["model_type"]?.GetValueKind() == JsonValueKind.String
            ? json["model_type"]!.GetValue<string>()
            : null;
        if (modelType != ModelType)
        {
            string found = modelType is null ? "has no model_type" : $"is a '{modelType}' checkpoint";
            throw new InvalidDataException($"{path} {found}, not a VAE ({ModelType}) checkpoint.");
        }
        VaeConfig config;
        try
        {
            config = json.Deserialize<VaeConfig>(Json) ?? throw new InvalidDataException($"{path}: empty config.");
            config.Validate();
        }
        catch (Exception error) when (error is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
        return config;
    }

    /// <summary>Writes a complete training checkpoint folder, atomically replacing the previous one.</summary>
    internal static void SaveTraining(string directory, Vae vae, AdamOptimizer optimizer, Generator sampler,
        VaeTrainerState state)
    {
        AtomicFiles.ReplaceDirectory(directory, temporary =>
        {
            SaveModel(vae, temporary);
            var optimizerMetadata = new Dictionary<string, string>
            {
                ["step"] = optimizer.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["algorithm"] = "adam (keras)",
                ["beta_1"] = "0.9",
                ["beta_2"] = "0.999",
                ["epsilon"] = "1e-07",
            };
            SafeTensorsWriter.Save(Path.Combine(temporary, OptimizerFile), optimizer.StateTensors(), optimizerMetadata);
            using Tensor generatorState = sampler.get_state();
            SafeTensorsWriter.Save(Path.Combine(temporary, RngFile), [new(SamplerGeneratorKey, generatorState)]);
            AtomicFiles.WriteAllText(Path.Combine(temporary, TrainerStateFile),
                JsonSerializer.Serialize(state, Json) + "\n");
        });
    }

    /// <summary>Reads the trainer state of a training checkpoint.</summary>
    internal static VaeTrainerState ReadTrainerState(string directory)
    {
        string path = Path.Combine(directory, TrainerStateFile);
        if (!File.Exists(path))
        {
            throw new InvalidDataException(
                $"{directory} has no {TrainerStateFile}: it holds weights only and cannot be resumed.");
        }
        try
        {
            return JsonSerializer.Deserialize<VaeTrainerState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
    }
}
