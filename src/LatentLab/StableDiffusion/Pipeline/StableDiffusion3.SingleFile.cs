using LatentLab.Runtime;
using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.StableDiffusion.Checkpoints;
using LatentLab.StableDiffusion.Schedulers;
using LatentLab.StableDiffusion.TextEncoders;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Weights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

// Loading from one of Stability's single-file checkpoints.
public sealed partial class StableDiffusion3
{
    /// <summary>
    /// The flow-matching shift of every SD3 / SD 3.5 release's scheduler, used when no scheduler config is at hand.
    /// </summary>
    public const double ReleasedSchedulerShift = 3.0;

    /// <summary>
    /// Loads a model folder in the diffusers layout, or one of Stability's single-file checkpoints when
    /// <paramref name="model"/> is a <c>.safetensors</c> file (see <see cref="LoadSingleFile"/>; the folder for its
    /// tokenizers is then <paramref name="componentsFolder"/>).
    /// </summary>
    public static StableDiffusion3 Load(string model, string? componentsFolder, StableDiffusion3Options? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return File.Exists(model)
            ? LoadSingleFile(model, componentsFolder, options, loggerFactory)
            : Load(model, options, loggerFactory);
    }

    /// <summary>
    /// Loads one of Stability's single-file checkpoints (<c>sd3_medium*.safetensors</c>, <c>sd3.5_*.safetensors</c>):
    /// the transformer and the VAE from the file, their sizes read from its tensors' shapes; the text encoders from the
    /// file when it includes them, otherwise from <paramref name="componentsFolder"/>. Single files carry no
    /// tokenizers, so a diffusers Stable Diffusion 3 folder is needed in any case for them (and for the text encoders'
    /// configs); where its transformer, VAE and scheduler configs fit the file's tensors they are used too (they add
    /// the sizes shapes cannot tell: head width without qk norm, sample size, norm groups).
    /// </summary>
    /// <param name="checkpointPath">The <c>.safetensors</c> file; memory-mapped, never read whole.</param>
    /// <param name="componentsFolder">A diffusers SD3 folder with <c>tokenizer*/</c> and <c>text_encoder*/</c>.</param>
    /// <param name="options">dtype, device, T5 on or off, T5 length; defaults when null.</param>
    /// <param name="loggerFactory">Optional; logs which configs were used.</param>
    /// <exception cref="ArgumentException">No components folder (the message says what it must hold).</exception>
    /// <exception cref="InvalidDataException">Not an SD3 single file, or tensors that do not fit (named).</exception>
    public static StableDiffusion3 LoadSingleFile(string checkpointPath, string? componentsFolder,
        StableDiffusion3Options? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        options ??= new StableDiffusion3Options();
        options.Validate();
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StableDiffusion3>();
        Device device = TorchRuntime.ParseDevice(options.Device);
        using Sd3SingleFile file = Sd3SingleFile.Open(checkpointPath);
        if (componentsFolder is null)
        {
            throw new ArgumentException(file.HasClipL && file.HasClipG
                ? $"{checkpointPath} includes the text encoders but, like every single file, no tokenizers: also give " +
                  "a diffusers Stable Diffusion 3 folder for the tokenizers and text encoder configs (CLI: --text-model DIR)."
                : $"{checkpointPath} has no CLIP text encoders: also give a diffusers Stable Diffusion 3 folder for the " +
                  "text encoders and tokenizers (CLI: --text-model DIR).");
        }
        if (!Directory.Exists(componentsFolder))
            throw new DirectoryNotFoundException($"{componentsFolder}: no such components folder.");

        // 1. Sizes from the shapes, or the folder's configs where they describe the same tensors.
        string transformerConfigPath = Path.Combine(componentsFolder, "transformer", "config.json");
        SD3TransformerConfig? folderTransformer = File.Exists(transformerConfigPath)
            ? SD3TransformerConfig.Load(transformerConfigPath)
            : null;
        SD3TransformerConfig transformerConfig = file.InferTransformerConfig(folderTransformer?.AttentionHeadDim);
        if (folderTransformer is not null && MmditCheckpointLayout.Fits(folderTransformer, transformerConfig))
        {
            transformerConfig = folderTransformer;
            LogConfigFromFolder(logger, transformerConfigPath);
        }
        string vaeConfigPath = Path.Combine(componentsFolder, "vae", "config.json");
        AutoencoderKLConfig? folderVae = File.Exists(vaeConfigPath) ? AutoencoderKLConfig.Load(vaeConfigPath) : null;
        AutoencoderKLConfig vaeConfig = file.InferVaeConfig(folderVae?.NormNumGroups ?? 32);
        if (folderVae is not null && LdmVaeCheckpointLayout.Fits(folderVae, vaeConfig))
        {
            vaeConfig = folderVae;
            LogConfigFromFolder(logger, vaeConfigPath);
        }
        string schedulerFolder = Path.Combine(componentsFolder, "scheduler");
        FlowMatchEulerDiscreteScheduler scheduler = File.Exists(Path.Combine(schedulerFolder, "scheduler_config.json"))
            ? FlowMatchEulerDiscreteScheduler.FromFolder(schedulerFolder)
            : new FlowMatchEulerDiscreteScheduler(new FlowMatchEulerDiscreteSchedulerConfig(Shift: ReleasedSchedulerShift));

        // 2. Image side from the file's lazy views: one tensor at a time is converted and copied. As for a folder,
        // with T5 released after encoding the transformer is read only afterwards (the file is opened again then).
        bool deferTransformer = options.ReleaseT5AfterEncoding;
        SD3Transformer2DModel LoadTransformer()
        {
            using Sd3SingleFile reopened = Sd3SingleFile.Open(checkpointPath);
            return BuildAndLoadFrom(() => new SD3Transformer2DModel(transformerConfig), reopened.TransformerWeights(),
                null, options.DType, device);
        }
        SD3Transformer2DModel? transformer = deferTransformer
            ? null
            : BuildAndLoadFrom(() => new SD3Transformer2DModel(transformerConfig), file.TransformerWeights(), null,
                options.DType, device);
        StableDiffusion3? pipeline = null;
        try
        {
            ScalarType vaeDType = vaeConfig.ForceUpcast ? ScalarType.Float32 : options.DType;
            AutoencoderKL vae = BuildAndLoadFrom(() => new AutoencoderKL(vaeConfig), file.VaeWeights(),
                AutoencoderKL.MapCheckpointKey, vaeDType, device);
            pipeline = new StableDiffusion3(checkpointPath, transformerConfig, LoadTransformer, vae, scheduler, options,
                device, logger)
            { _transformer = transformer };
            LogLoaded(logger, checkpointPath, options.DType, vaeDType, device);

            // 3. Text side: weights from the file where included, tokenizers and configs from the folder.
            using TensorSource? folderClipL = MissingProjection(file.ClipLWeights(), componentsFolder, logger);
            pipeline._textEncoder = Sd3TextEncoder.LoadWithWeights(componentsFolder,
                new Sd3TextEncoderOptions(options.UseT5, options.MaxT5SequenceLength), options.DType, device,
                loggerFactory, WithProjection(file.ClipLWeights(), folderClipL), file.ClipGWeights(),
                options.UseT5 ? file.T5Weights() : null, transformerConfig.JointAttentionDim);
            return pipeline;
        }
        catch
        {
            if (pipeline is not null) pipeline.Dispose();
            else transformer?.Dispose();
            throw;
        }
    }

    private const string TextProjection = "text_projection.weight";

    /// <summary>
    /// Some of Stability's files include CLIP-L without its <c>text_projection</c>; the folder's CLIP-L weights then
    /// supply it (opened here, or null when the file has it or includes no CLIP-L).
    /// </summary>
    private static TensorSource? MissingProjection(ITensorSource? clipL, string componentsFolder, ILogger logger)
    {
        if (clipL is null || clipL.Names.Contains(TextProjection)) return null;
        string folder = Path.Combine(componentsFolder, "text_encoder");
        if (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.safetensors").Length == 0)
        {
            throw new InvalidDataException(
                $"{clipL.Description}: CLIP-L has no {TextProjection}, and {folder} has no weights to take it from.");
        }
        LogProjectionFromFolder(logger, folder);
        return TensorSource.OpenFolder(folder);
    }

    private static ITensorSource? WithProjection(ITensorSource? clipL, TensorSource? folderClipL)
    {
        if (clipL is null || folderClipL is null) return clipL;
        var patched = new TensorView(clipL, clipL.Description);
        foreach (string name in clipL.Names) patched.Rename(name, name);
        patched.Borrow(folderClipL, TextProjection);
        return patched;
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Single file: sizes from {Config}, which fits the file's tensors")]
    private static partial void LogConfigFromFolder(ILogger logger, string config);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "Single file: CLIP-L has no text_projection; taken from {Folder}")]
    private static partial void LogProjectionFromFolder(ILogger logger, string folder);
}
