using System.Globalization;
using System.Text.Json;
using LatentLab.Training;
using LatentLab.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// Files of a diffusion run folder:
/// <list type="bullet">
/// <item><c>config.json</c> and <c>model.safetensors</c>: the model to sample from (weights as the weight average
/// has them, as Keras would finalise them now; normaliser statistics included).</item>
/// <item><c>checkpoint/</c>: everything for an exact resume (live weights and batch-norm statistics, AdamW moments,
/// weight averages, the noise generator's state, <c>state.json</c>), replaced atomically as a whole.</item>
/// </list>
/// </summary>
public static class DiffusionCheckpoint
{
    /// <summary>Config file name in a run folder.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Sampling weights file name in a run folder.</summary>
    public const string ModelFile = "model.safetensors";

    /// <summary>Checkpoint sub-folder name.</summary>
    public const string CheckpointFolder = "checkpoint";

    private const string StateFile = "state.json";
    private const string OptimizerFile = "optimizer.safetensors";
    private const string GeneratorKey = "generator_state";
    private const string FormatKey = "format";
    private const string FormatValue = "latentlab.diffusion";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static readonly Dictionary<string, string> Metadata = new() { [FormatKey] = FormatValue };

    /// <summary>Whether <paramref name="runDirectory"/> holds a resumable checkpoint.</summary>
    public static bool HasCheckpoint(string runDirectory) =>
        File.Exists(Path.Combine(runDirectory, CheckpointFolder, StateFile));

    /// <summary>Writes the sampling model and the resumable checkpoint.</summary>
    public static void Save(string runDirectory, DiffusionModel model, DiffusionOptimizer optimizer,
        DiffusionTrainingState state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(runDirectory);
        AtomicFiles.WriteAllText(Path.Combine(runDirectory, ConfigFile), model.Config.ToJson());

        // The checkpoint folder first: a crash between the two leaves a resumable run.
        AtomicFiles.ReplaceDirectory(Path.Combine(runDirectory, CheckpointFolder), folder =>
        {
            ModuleWeights.Save(model, Path.Combine(folder, ModelFile), Metadata);
            var tensors = new List<KeyValuePair<string, Tensor>>();
            for (int i = 0; i < optimizer.AdamW.FirstMoments.Count; i++)
            {
                string index = i.ToString(CultureInfo.InvariantCulture);
                tensors.Add(new($"adam.m.{index}", optimizer.AdamW.FirstMoments[i]));
                tensors.Add(new($"adam.v.{index}", optimizer.AdamW.SecondMoments[i]));
                if (optimizer.Average is not null) tensors.Add(new($"ema.{index}", optimizer.Average.Averages[i]));
            }
            using Tensor generatorState = optimizer.Generator.get_state();
            tensors.Add(new(GeneratorKey, generatorState));
            SafeTensorsWriter.Save(Path.Combine(folder, OptimizerFile), tensors, Metadata);
            File.WriteAllText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(state, JsonOptions));
        });

        if (optimizer.Average is null || state.Finished)
        {
            ModuleWeights.Save(model, Path.Combine(runDirectory, ModelFile), Metadata);
        }
        else
        {
            WithAveragedWeights(optimizer, () =>
                ModuleWeights.Save(model, Path.Combine(runDirectory, ModelFile), Metadata));
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> with the weight average in place of the live weights (nothing changes when
    /// the config has no average), then puts the live weights back.
    /// </summary>
    public static void WithAveragedWeights(DiffusionOptimizer optimizer, Action action)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(action);
        if (optimizer.Average is null)
        {
            action();
            return;
        }
        IReadOnlyList<TorchSharp.Modules.Parameter> parameters = optimizer.Parameters;
        Tensor[] live;
        using (no_grad()) live = parameters.Select(parameter => parameter.detach().clone()).ToArray();
        try
        {
            optimizer.Average.CopyIntoWeights();
            action();
        }
        finally
        {
            using (no_grad())
            {
                for (int i = 0; i < live.Length; i++) parameters[i].copy_(live[i]);
            }
            foreach (Tensor tensor in live) tensor.Dispose();
        }
    }

    /// <summary>Reads a run's config.</summary>
    /// <exception cref="InvalidDataException">No config, or not a diffusion config; the message names the file.</exception>
    public static DiffusionConfig LoadConfig(string runDirectory)
    {
        string path = Path.Combine(runDirectory, ConfigFile);
        if (!File.Exists(path))
            throw new InvalidDataException($"{runDirectory}: not a diffusion run folder (no {ConfigFile}).");
        return DiffusionConfig.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Loads the model to sample from (config and <c>model.safetensors</c>) onto <paramref name="device"/>.</summary>
    /// <exception cref="InvalidDataException">Missing files, another model's weights, or weights that do not fit.</exception>
    public static DiffusionModel LoadModel(string runDirectory, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        DiffusionConfig config = LoadConfig(runDirectory);
        string weights = Path.Combine(runDirectory, ModelFile);
        if (!File.Exists(weights)) throw new InvalidDataException($"{runDirectory}: no {ModelFile} in the run folder.");
        var model = new DiffusionModel(config);
        try
        {
            using TensorSource source = TensorSource.OpenFile(weights);
            CheckFormat(source, weights);
            ModuleWeights.Load(model, source);
            if (device is not null) model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads the training state of a run's checkpoint.</summary>
    /// <exception cref="InvalidDataException">No checkpoint, or an unreadable one; the message names the file.</exception>
    public static DiffusionTrainingState ReadState(string runDirectory)
    {
        string statePath = Path.Combine(runDirectory, CheckpointFolder, StateFile);
        if (!File.Exists(statePath))
            throw new InvalidDataException($"{runDirectory}: no checkpoint to resume ({statePath} is missing).");
        try
        {
            return JsonSerializer.Deserialize<DiffusionTrainingState>(File.ReadAllText(statePath), JsonOptions)
                   ?? throw new InvalidDataException($"{statePath}: empty training state.");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{statePath}: not a diffusion training state ({error.Message})", error);
        }
    }

    /// <summary>
    /// Restores a run's checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> (built from the same
    /// config) and returns its state.
    /// </summary>
    public static DiffusionTrainingState Restore(string runDirectory, DiffusionModel model, DiffusionOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        string folder = Path.Combine(runDirectory, CheckpointFolder);
        DiffusionTrainingState state = ReadState(runDirectory);

        string weightsPath = Path.Combine(folder, ModelFile);
        using (TensorSource weights = TensorSource.OpenFile(weightsPath))
        {
            CheckFormat(weights, weightsPath);
            ModuleWeights.Load(model, weights);
        }

        string optimizerPath = Path.Combine(folder, OptimizerFile);
        using TensorSource source = TensorSource.OpenFile(optimizerPath);
        CheckFormat(source, optimizerPath);
        using (no_grad())
        {
            for (int i = 0; i < optimizer.AdamW.FirstMoments.Count; i++)
            {
                string index = i.ToString(CultureInfo.InvariantCulture);
                Copy(source, $"adam.m.{index}", optimizer.AdamW.FirstMoments[i], optimizerPath);
                Copy(source, $"adam.v.{index}", optimizer.AdamW.SecondMoments[i], optimizerPath);
                if (optimizer.Average is not null)
                    Copy(source, $"ema.{index}", optimizer.Average.Averages[i], optimizerPath);
            }
        }
        using Tensor generatorState = source.Read(GeneratorKey);
        optimizer.Generator.set_state(generatorState);
        optimizer.AdamW.Iterations = state.Iterations;
        return state;
    }

    private static void Copy(TensorSource source, string name, Tensor destination, string path)
    {
        if (!source.Contains(name)) throw new InvalidDataException($"{path}: no tensor {name}.");
        using Tensor value = source.Read(name);
        if (!value.shape.SequenceEqual(destination.shape))
            throw new InvalidDataException($"{path}: {name} has the wrong shape for this model.");
        destination.copy_(value);
    }

    private static void CheckFormat(TensorSource source, string path)
    {
        if (!source.Metadata.TryGetValue(FormatKey, out string? format) || format != FormatValue)
            throw new InvalidDataException($"{path}: not a LatentLab diffusion file (metadata format is not {FormatValue}).");
    }
}
