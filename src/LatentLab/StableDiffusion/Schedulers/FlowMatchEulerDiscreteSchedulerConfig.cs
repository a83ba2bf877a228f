using System.Text.Json.Serialization;

namespace LatentLab.StableDiffusion.Schedulers;

/// <summary>
/// The flow-matching Euler scheduler's settings, named as in diffusers' <c>scheduler_config.json</c>.
/// SD3 Medium uses <c>shift = 3</c> and no dynamic shifting.
/// </summary>
/// <param name="NumTrainTimesteps">Training timesteps; model timesteps are <c>sigma * NumTrainTimesteps</c>. Default 1000.</param>
/// <param name="Shift">Timestep shift s: sigma' = s sigma / (1 + (s - 1) sigma); 1 leaves sigmas linear. Default 1.</param>
/// <param name="UseDynamicShifting">Shift by a resolution-dependent mu instead of <see cref="Shift"/>. Default false.</param>
/// <param name="BaseShift">mu at <see cref="BaseImageSeqLen"/> image tokens, for dynamic shifting. Default 0.5.</param>
/// <param name="MaxShift">mu at <see cref="MaxImageSeqLen"/> image tokens, for dynamic shifting. Default 1.15.</param>
/// <param name="BaseImageSeqLen">Image sequence length where mu is <see cref="BaseShift"/>. Default 256.</param>
/// <param name="MaxImageSeqLen">Image sequence length where mu is <see cref="MaxShift"/>. Default 4096.</param>
/// <param name="InvertSigmas">Later diffusers option; only false is supported.</param>
/// <param name="UseKarrasSigmas">Later diffusers option; only false is supported.</param>
/// <param name="UseExponentialSigmas">Later diffusers option; only false is supported.</param>
/// <param name="UseBetaSigmas">Later diffusers option; only false is supported.</param>
/// <param name="ShiftTerminal">Later diffusers option; only null (absent) is supported.</param>
public sealed record FlowMatchEulerDiscreteSchedulerConfig(
    [property: JsonPropertyName("num_train_timesteps")] int NumTrainTimesteps = 1000,
    [property: JsonPropertyName("shift")] double Shift = 1.0,
    [property: JsonPropertyName("use_dynamic_shifting")] bool UseDynamicShifting = false,
    [property: JsonPropertyName("base_shift")] double BaseShift = 0.5,
    [property: JsonPropertyName("max_shift")] double MaxShift = 1.15,
    [property: JsonPropertyName("base_image_seq_len")] int BaseImageSeqLen = 256,
    [property: JsonPropertyName("max_image_seq_len")] int MaxImageSeqLen = 4096,
    [property: JsonPropertyName("invert_sigmas")] bool InvertSigmas = false,
    [property: JsonPropertyName("use_karras_sigmas")] bool UseKarrasSigmas = false,
    [property: JsonPropertyName("use_exponential_sigmas")] bool UseExponentialSigmas = false,
    [property: JsonPropertyName("use_beta_sigmas")] bool UseBetaSigmas = false,
    [property: JsonPropertyName("shift_terminal")] double? ShiftTerminal = null)
{
    /// <summary>The diffusers class name this config belongs to.</summary>
    public const string ClassName = "FlowMatchEulerDiscreteScheduler";

    /// <summary>Reads <c>scheduler_config.json</c> and checks every option is one this port implements.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid config.</exception>
    /// <exception cref="NotSupportedException">Another scheduler class, or an option this port does not implement.</exception>
    public static FlowMatchEulerDiscreteSchedulerConfig Load(string path)
    {
        var config = ComponentConfigFile.Load<FlowMatchEulerDiscreteSchedulerConfig>(path, ClassName);
        config.Validate(path);
        return config;
    }

    /// <summary>Throws if a value is out of range or an option is not implemented.</summary>
    public void Validate(string source = "scheduler config")
    {
        if (NumTrainTimesteps < 1)
            throw new InvalidDataException($"{source}: num_train_timesteps must be at least 1, got {NumTrainTimesteps}");
        if (!(Shift > 0)) throw new InvalidDataException($"{source}: shift must be positive, got {Shift}");
        string? unsupported = InvertSigmas ? "invert_sigmas"
            : UseKarrasSigmas ? "use_karras_sigmas"
            : UseExponentialSigmas ? "use_exponential_sigmas"
            : UseBetaSigmas ? "use_beta_sigmas"
            : ShiftTerminal is not null ? "shift_terminal"
            : null;
        if (unsupported is not null)
        {
            throw new NotSupportedException(
                $"{source}: option {unsupported} is not supported; supported: shift, use_dynamic_shifting " +
                "(with base_shift, max_shift, base_image_seq_len, max_image_seq_len)");
        }
    }
}
