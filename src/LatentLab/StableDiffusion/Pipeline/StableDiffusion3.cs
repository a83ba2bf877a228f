using System.Diagnostics;
using LatentLab.Runtime;
using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.StableDiffusion.Schedulers;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Weights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Pipeline;

/// <summary>
/// Stable Diffusion 3 text-to-image from a diffusers folder, whole (<c>Generate</c>) or in its three parts:
/// <see cref="EncodeText(string, string)"/>, <see cref="DenoiseStep"/>, <see cref="Decode"/>.
/// </summary>
/// <remarks>
/// Follows diffusers 0.31's <c>StableDiffusion3Pipeline</c>: classifier-free guidance batches [negative, positive],
/// flow-matching Euler steps, latents unscaled then decoded. One deliberate difference: latents and the guidance
/// arithmetic stay in float32 under bfloat16 weights (the reference keeps them in the weights' dtype); in float32
/// the two are the same computation.
/// </remarks>
public sealed partial class StableDiffusion3 : IDisposable
{
    private readonly SD3TransformerConfig _transformerConfig;
    private readonly Func<SD3Transformer2DModel> _loadTransformer;
    private SD3Transformer2DModel? _transformer;
    private readonly AutoencoderKL _vae;
    private readonly FlowMatchEulerDiscreteScheduler _scheduler;
    private readonly StableDiffusion3Options _options;
    private readonly Device _device;
    private readonly ScalarType _vaeDType;
    private readonly ILogger _logger;
    private bool _disposed;

    private StableDiffusion3(string modelFolder, SD3TransformerConfig transformerConfig,
        Func<SD3Transformer2DModel> loadTransformer, AutoencoderKL vae, FlowMatchEulerDiscreteScheduler scheduler,
        StableDiffusion3Options options, Device device, ILogger logger)
    {
        ModelFolder = modelFolder;
        _transformerConfig = transformerConfig;
        _loadTransformer = loadTransformer;
        _vae = vae;
        _scheduler = scheduler;
        _options = options;
        _device = device;
        _vaeDType = vae.Config.ForceUpcast ? ScalarType.Float32 : options.DType;
        _logger = logger;
    }

    /// <summary>The folder the model was loaded from.</summary>
    public string ModelFolder { get; }

    /// <summary>The options the model was loaded with.</summary>
    public StableDiffusion3Options Options => _options;

    /// <summary>The transformer's sizes.</summary>
    public SD3TransformerConfig TransformerConfig => _transformerConfig;

    /// <summary>The VAE's sizes and latent statistics.</summary>
    public AutoencoderKLConfig VaeConfig => _vae.Config;

    /// <summary>The scheduler's settings.</summary>
    public FlowMatchEulerDiscreteSchedulerConfig SchedulerConfig => _scheduler.Config;

    /// <summary>Pixels per latent along a side (8 for SD3).</summary>
    public int VaeScaleFactor => _vae.Config.ScaleFactor;

    /// <summary>Image sides must be multiples of this: VAE scale factor x patch size (16 for SD3).</summary>
    public int SizeMultiple => VaeScaleFactor * _transformerConfig.PatchSize;

    /// <summary>The side the model was trained at (1024 for SD3 Medium), used when no size is given.</summary>
    public int DefaultSize => _transformerConfig.SampleSize * VaeScaleFactor;

    /// <summary>Largest image side the position table covers.</summary>
    public int MaxSize => _transformerConfig.PosEmbedMaxSize * SizeMultiple;

    /// <summary>Whether the transformer's weights are in memory (they are loaded late when T5 is released
    /// after encoding, so that the two largest components are never resident together).</summary>
    public bool IsTransformerLoaded => _transformer is not null;

    /// <summary>The transformer, loaded on first use when its loading was deferred.</summary>
    private SD3Transformer2DModel Transformer => _transformer ??= _loadTransformer();

    /// <summary>
    /// Loads the image side (transformer, VAE, scheduler) of a diffusers SD3 folder; with
    /// <paramref name="deferTransformer"/> the transformer's config is checked now and its weights read on first use.
    /// </summary>
    internal static StableDiffusion3 LoadImageSide(string modelFolder, StableDiffusion3Options options,
        ILoggerFactory? loggerFactory, bool deferTransformer = false)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ModelIndex.Read(modelFolder);
        Device device = TorchRuntime.ParseDevice(options.Device);
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StableDiffusion3>();

        var scheduler = FlowMatchEulerDiscreteScheduler.FromFolder(Path.Combine(modelFolder, "scheduler"));
        string transformerFolder = Path.Combine(modelFolder, "transformer");
        var transformerConfig = SD3TransformerConfig.Load(Path.Combine(transformerFolder, "config.json"));
        if (!Directory.Exists(transformerFolder))
            throw new DirectoryNotFoundException($"{transformerFolder}: no such component folder");
        SD3Transformer2DModel LoadTransformer() => BuildAndLoad(
            () => new SD3Transformer2DModel(transformerConfig), transformerFolder, null, options.DType, device);
        SD3Transformer2DModel? transformer = deferTransformer ? null : LoadTransformer();
        try
        {
            string vaeFolder = Path.Combine(modelFolder, "vae");
            var vaeConfig = AutoencoderKLConfig.Load(Path.Combine(vaeFolder, "config.json"));
            ScalarType vaeDType = vaeConfig.ForceUpcast ? ScalarType.Float32 : options.DType;
            AutoencoderKL vae = BuildAndLoad(
                () => new AutoencoderKL(vaeConfig), vaeFolder, AutoencoderKL.MapCheckpointKey, vaeDType, device);
            LogLoaded(logger, modelFolder, options.DType, vaeDType, device);
            return new StableDiffusion3(modelFolder, transformerConfig, LoadTransformer, vae, scheduler, options,
                device, logger)
            { _transformer = transformer };
        }
        catch
        {
            transformer?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds a module directly in <paramref name="dtype"/> (no float32 copy of a 2-billion-parameter model on the
    /// way), loads its weights strictly by name from <paramref name="folder"/>, and moves it to the device.
    /// </summary>
    internal static T BuildAndLoad<T>(Func<T> build, string? folder, Func<string, string?>? mapKey, ScalarType dtype,
        Device device) where T : nn.Module
    {
        if (folder is null) return BuildAndLoadFrom(build, null, mapKey, dtype, device);
        using TensorSource source = TensorSource.OpenFolder(folder);
        return BuildAndLoadFrom(build, source, mapKey, dtype, device);
    }

    /// <summary>
    /// As <see cref="BuildAndLoad{T}"/>, from any tensor source (a folder's files or a converted view of a single
    /// file); without a source the module keeps its fresh weights.
    /// </summary>
    internal static T BuildAndLoadFrom<T>(Func<T> build, ITensorSource? source, Func<string, string?>? mapKey,
        ScalarType dtype, Device device) where T : nn.Module
    {
        T module = BuildInDType(build, dtype);
        try
        {
            if (source is not null) ModuleWeights.Load(module, source, mapKey);
            module.to(device);
            module.eval();
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Constructs a module with <paramref name="dtype"/> as the default dtype, then casts any leftovers.</summary>
    internal static T BuildInDType<T>(Func<T> build, ScalarType dtype) where T : nn.Module
    {
        ScalarType previous = get_default_dtype();
        T module;
        try
        {
            set_default_dtype(dtype);
            module = build();
        }
        finally
        {
            set_default_dtype(previous);
        }
        module.to(dtype);
        return module;
    }

    /// <summary>
    /// PyTorch-compatible initial noise: <c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c> on
    /// the CPU, float32, so a seed gives the reference implementation's picture.
    /// </summary>
    /// <returns>[count, latent channels, height/8, width/8] on the CPU.</returns>
    public Tensor PrepareLatents(int count, int width, int height, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        CheckSize(width, height);
        using var generator = new Generator((ulong)seed, CPU);
        return randn([count, _vae.Config.LatentChannels, height / VaeScaleFactor, width / VaeScaleFactor],
            ScalarType.Float32, CPU, generator: generator);
    }

    /// <summary>
    /// One denoising step: the transformer's velocity (with classifier-free guidance when
    /// <paramref name="guidanceScale"/> &gt; 1, batch [negative, positive]) and one Euler step of the schedule for
    /// <paramref name="numSteps"/> steps.
    /// </summary>
    /// <param name="latents">[B, C, h, w] latents at step <paramref name="step"/> (float32).</param>
    /// <param name="embeddings">Text conditioning for the B images.</param>
    /// <param name="step">0-based step index, below <paramref name="numSteps"/>.</param>
    /// <param name="numSteps">Steps of the whole run (the schedule depends on it).</param>
    /// <param name="guidanceScale">Classifier-free guidance weight; 1 or less switches guidance off.</param>
    /// <returns>[B, C, h, w] float32 latents for the next step, on the model's device.</returns>
    public Tensor DenoiseStep(Tensor latents, Sd3TextEmbeddings embeddings, int step, int numSteps, double guidanceScale)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(embeddings);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(guidanceScale);
        if (latents.dim() != 4 || latents.shape[0] != embeddings.BatchSize)
        {
            throw new ArgumentException(
                $"latents [{string.Join(", ", latents.shape)}] do not match {embeddings.BatchSize} prompt embedding(s)");
        }
        FlowMatchSchedule schedule = Schedule(numSteps, latents.shape[2], latents.shape[3]);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, numSteps);

        // Read a deferred transformer before the dispose scope opens, so its weights are not owned by the scope.
        SD3Transformer2DModel transformer = Transformer;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        bool guided = guidanceScale > 1;
        Tensor sample = latents.to(ScalarType.Float32, _device);

        // 1. The model input: the latents twice under guidance, with [negative, positive] conditioning.
        Tensor modelInput = guided ? cat([sample, sample], 0) : sample; // [B or 2B, C, h, w]
        Tensor sequence = guided
            ? cat([embeddings.NegativePromptEmbeds, embeddings.PromptEmbeds], 0)
            : embeddings.PromptEmbeds; // [B or 2B, L, D]
        Tensor pooled = guided
            ? cat([embeddings.NegativePooledPromptEmbeds, embeddings.PooledPromptEmbeds], 0)
            : embeddings.PooledPromptEmbeds; // [B or 2B, Dp]
        Tensor timesteps = full(modelInput.shape[0], schedule.Timesteps[step], ScalarType.Float32, _device);

        // 2. The velocity, guided: v_uncond + g (v_text - v_uncond).
        Tensor velocity = transformer.forward(modelInput, sequence.to(_device), pooled.to(_device), timesteps)
            .to(ScalarType.Float32);
        if (guided)
        {
            Tensor[] halves = velocity.chunk(2, 0); // v_uncond, v_text: 2 x [B, C, h, w]
            velocity = halves[0] + (halves[1] - halves[0]) * guidanceScale;
        }

        // 3. One Euler step from sigma_step to sigma_step+1.
        return FlowMatchEulerDiscreteScheduler.Step(velocity, sample, schedule, step).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes latents to images with the VAE: z = latents / scaling + shift, then the decoder.</summary>
    /// <param name="latents">[B, C, h, w] final latents.</param>
    /// <returns>[B, 3, 8h, 8w] float32 on the CPU, about [-1, 1].</returns>
    public Tensor Decode(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor z = _vae.Unscale(latents.to(ScalarType.Float32, _device)).to(_vaeDType);
        return _vae.Decode(z).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Decoder output [-1, 1] to [0, 1]: x / 2 + 0.5, clamped (the reference's postprocess).</summary>
    public static Tensor ToUnitRange(Tensor decoded)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        using Tensor shifted = decoded / 2 + 0.5;
        return shifted.clamp(0, 1);
    }

    /// <summary>
    /// Decoder output [-1, 1] to 8-bit pixels as the reference does: round(255 ((x / 2 + 0.5) clamped to [0, 1])),
    /// rounding half to even.
    /// </summary>
    /// <returns>uint8 tensor of the same shape.</returns>
    public static Tensor ToPixels(Tensor decoded)
    {
        using var scope = NewDisposeScope();
        return (ToUnitRange(decoded.to(ScalarType.Float32)) * 255).round().to(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the denoising loop from given text embeddings (the part of <c>Generate</c> after the text encoders),
    /// e.g. for interpolated embeddings.
    /// </summary>
    /// <param name="embeddings">Conditioning for B images.</param>
    /// <param name="numSteps">Denoising steps, at least 1. Default 28.</param>
    /// <param name="guidanceScale">Classifier-free guidance; 1 or less switches it off. Default 7.</param>
    /// <param name="seed">Seed of the initial noise; drawn (and returned in the result) when null.</param>
    /// <param name="width">Image width, a multiple of <see cref="SizeMultiple"/>; default <see cref="DefaultSize"/>.</param>
    /// <param name="height">Image height, likewise.</param>
    /// <param name="initialLatents">Noise to start from instead of the seed's ([B, C, h, w]); the seed is then only
    /// reported.</param>
    /// <param name="returnLatents">Keep the final latents in the result.</param>
    /// <param name="progress">Told after each step.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    /// <exception cref="OperationCanceledException">Cancelled between steps.</exception>
    public Sd3GenerationResult GenerateFromEmbeddings(Sd3TextEmbeddings embeddings, int numSteps = 28,
        double guidanceScale = 7.0, long? seed = null, int? width = null, int? height = null,
        Tensor? initialLatents = null, bool returnLatents = false, IProgress<Sd3StepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(numSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(guidanceScale);
        int imageWidth = width ?? DefaultSize;
        int imageHeight = height ?? DefaultSize;
        CheckSize(imageWidth, imageHeight);
        long usedSeed = seed ?? DrawSeed();
        if (seed is null) LogSeedDrawn(_logger, usedSeed);

        // 1. Initial noise from the seed (PyTorch's CPU generator), unless given.
        Tensor latents = initialLatents is not null
            ? initialLatents.to(ScalarType.Float32, _device, copy: true)
            : PrepareLatents((int)embeddings.BatchSize, imageWidth, imageHeight, usedSeed).to(_device);

        // 2. The denoising loop.
        var clock = Stopwatch.StartNew();
        TimeSpan previous = TimeSpan.Zero;
        for (int step = 0; step < numSteps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor next = DenoiseStep(latents, embeddings, step, numSteps, guidanceScale);
            latents.Dispose();
            latents = next;
            TimeSpan elapsed = clock.Elapsed;
            progress?.Report(new Sd3StepProgress(step + 1, numSteps, elapsed - previous, elapsed));
            previous = elapsed;
        }

        // 3. Decode to [0, 1] images.
        using Tensor decoded = Decode(latents);
        Tensor images = ToUnitRange(decoded);
        Tensor? finalLatents = returnLatents ? latents.cpu() : null;
        if (finalLatents is null || !ReferenceEquals(finalLatents, latents)) latents.Dispose();
        return new Sd3GenerationResult(images, finalLatents, usedSeed);
    }

    /// <summary>The schedule for a run, with the dynamic shift for this latent size when the config asks for it.</summary>
    private FlowMatchSchedule Schedule(int numSteps, long latentHeight, long latentWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numSteps, 1);
        if (!_scheduler.Config.UseDynamicShifting) return _scheduler.Schedule(numSteps);
        int patch = _transformerConfig.PatchSize;
        int imageTokens = (int)(latentHeight / patch * (latentWidth / patch));
        return _scheduler.Schedule(numSteps, _scheduler.CalculateShift(imageTokens));
    }

    private void CheckSize(int width, int height)
    {
        foreach ((string name, int value) in new[] { ("width", width), ("height", height) })
        {
            if (value < SizeMultiple || value % SizeMultiple != 0 || value > MaxSize)
            {
                throw new ArgumentException(
                    $"{name} {value} must be a multiple of {SizeMultiple} between {SizeMultiple} and {MaxSize}");
            }
        }
    }

    /// <summary>A fresh seed in [0, 2^31) from the system's generator.</summary>
    private static long DrawSeed() => Random.Shared.Next(0, int.MaxValue);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _transformer?.Dispose();
        _vae.Dispose();
        DisposeTextSide();
    }

    partial void DisposeTextSide();

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Loaded SD3 image side from {Folder}: transformer {DType}, VAE {VaeDType}, on {Device}")]
    private static partial void LogLoaded(ILogger logger, string folder, ScalarType dtype, ScalarType vaeDType, Device device);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "No seed given; drew seed {Seed}")]
    private static partial void LogSeedDrawn(ILogger logger, long seed);
}
