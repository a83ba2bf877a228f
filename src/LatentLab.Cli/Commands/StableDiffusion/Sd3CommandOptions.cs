using System.CommandLine;
using System.Globalization;
using LatentLab.Cli.Infrastructure;
using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>The options <c>generate</c> and <c>steps</c> share, and their validation (one clear line each).</summary>
internal sealed class Sd3CommandOptions
{
    /// <summary>Environment variable naming the default model folder.</summary>
    public const string ModelVariable = "LATENTLAB_SD3_MODEL";

    public Argument<string> Prompt { get; } = new("prompt") { Description = "What the picture should show." };

    public Option<string?> Model { get; } = new("--model")
    {
        Description = $"Diffusers Stable Diffusion 3 folder (with model_index.json); default ${ModelVariable}.",
    };

    public Option<string> Negative { get; } = new("--negative")
    {
        Description = "What the picture should not show.",
        DefaultValueFactory = _ => "",
    };

    public Option<double> Guidance { get; } = new("--guidance")
    {
        Description = "Classifier-free guidance scale; 1 or less switches guidance off.",
        DefaultValueFactory = _ => 7.0,
    };

    public Option<int?> Seed { get; } = CommonOptions.Seed();

    public Option<string> Size { get; } = new("--size")
    {
        Description = "WIDTHxHEIGHT in pixels, multiples of 16.",
        DefaultValueFactory = _ => "512x512",
    };

    public Option<string> DType { get; } = new("--dtype")
    {
        Description = "Weights and compute: bf16 (half the memory) or f32.",
        DefaultValueFactory = _ => "bf16",
    };

    public Option<bool> NoT5 { get; } = new("--no-t5")
    {
        Description = "Do not load the T5 encoder (saves about 9 GB; its part of the prompt embedding is zeros).",
    };

    public Option<int> MaxSequenceLength { get; } = new("--max-sequence-length")
    {
        Description = "T5 tokens per prompt (1 to 512).",
        DefaultValueFactory = _ => 256,
    };

    public Option<string> Device { get; } = CommonOptions.Device();

    public Option<int> Threads { get; } = CommonOptions.Threads();

    public Option<bool> Force { get; } = CommonOptions.Force();

    public void AddTo(Command command)
    {
        command.Arguments.Add(Prompt);
        foreach (Option option in new Option[]
                 {
                     Model, Negative, Guidance, Seed, Size, DType, NoT5, MaxSequenceLength, Device, Threads, Force,
                 })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The model folder from --model or the environment; null when neither is set.</summary>
    public string? ResolveModel(ParseResult parsed)
    {
        string? folder = parsed.GetValue(Model);
        if (string.IsNullOrWhiteSpace(folder)) folder = Environment.GetEnvironmentVariable(ModelVariable);
        return string.IsNullOrWhiteSpace(folder) ? null : folder;
    }

    /// <summary>Validated pipeline options.</summary>
    public StableDiffusion3Options PipelineOptions(ParseResult parsed)
    {
        int maxLength = parsed.GetValue(MaxSequenceLength);
        if (maxLength is < 1 or > 512)
            throw new UsageException($"--max-sequence-length must be 1 to 512 (got {maxLength}).");
        return new StableDiffusion3Options(ParseDType(parsed.GetValue(DType)!), parsed.GetValue(Device)!,
            UseT5: !parsed.GetValue(NoT5), MaxT5SequenceLength: maxLength, ReleaseT5AfterEncoding: true);
    }

    public double ValidatedGuidance(ParseResult parsed)
    {
        double guidance = parsed.GetValue(Guidance);
        if (!(guidance >= 0) || double.IsInfinity(guidance))
            throw new UsageException($"--guidance must be 0 or more (got {guidance.ToString(CultureInfo.InvariantCulture)}).");
        return guidance;
    }

    /// <summary>Parses WIDTHxHEIGHT; both positive multiples of 16.</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        string[] parts = text.Split('x', 'X');
        if (parts.Length == 2 &&
            int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height) &&
            width >= 16 && height >= 16 && width % 16 == 0 && height % 16 == 0)
        {
            return (width, height);
        }
        throw new UsageException($"--size must be WIDTHxHEIGHT with both sides multiples of 16, e.g. 512x512 (got '{text}').");
    }

    public static torch.ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "bf16" or "bfloat16" => torch.ScalarType.BFloat16,
        "f32" or "fp32" or "float32" => torch.ScalarType.Float32,
        _ => throw new UsageException($"--dtype must be bf16 or f32 (got '{text}')."),
    };

    /// <summary>The lines printed when no model folder is configured.</summary>
    public static IReadOnlyList<string> NoModelHelp { get; } =
    [
        "no Stable Diffusion 3 model given: pass --model DIR or set LATENTLAB_SD3_MODEL=DIR.",
        "  The weights are published on Hugging Face as stabilityai/stable-diffusion-3-medium-diffusers; you must",
        "  accept Stability AI's licence there (signed in) before downloading. LatentLab downloads nothing itself.",
        "  Fetch the whole folder, e.g.: huggingface-cli download stabilityai/stable-diffusion-3-medium-diffusers",
        "  --local-dir ~/models/sd3-medium   then: latentlab generate \"a cat\" --model ~/models/sd3-medium",
    ];

    /// <summary>Prints <see cref="NoModelHelp"/> and returns the usage exit code.</summary>
    public static int ExplainMissingModel()
    {
        CliOutput.Error(NoModelHelp[0]);
        foreach (string line in NoModelHelp.Skip(1)) CliOutput.Line(line);
        return ExitCodes.Usage;
    }

    /// <summary>The warning for words past CLIP's 77 tokens, or null if none were dropped.</summary>
    public static string? TruncationWarning(string what, IReadOnlyList<string> droppedWords) =>
        droppedWords.Count == 0
            ? null
            : $"{what} is longer than CLIP's 77 tokens; these words are dropped: {string.Join(' ', droppedWords)}";

    /// <summary>A1111-style parameters text (the PNG tEXt chunk <c>parameters</c> other SD tools read).</summary>
    public static string ParametersText(string prompt, string negative, int steps, double guidance, long seed,
        int width, int height, string modelName) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{prompt}\nNegative prompt: {negative}\nSteps: {steps}, Sampler: Euler, CFG scale: {guidance:G}, " +
            $"Seed: {seed}, Size: {width}x{height}, Model: {modelName}");

    public static string ModelName(string folder) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
}
