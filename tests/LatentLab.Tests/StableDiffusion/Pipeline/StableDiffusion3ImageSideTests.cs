using LatentLab.StableDiffusion.Pipeline;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Pipeline;

/// <summary>The pipeline from the reference's prompt embeddings on: denoising, guidance, decoding, seeds, loading.</summary>
public class StableDiffusion3ImageSideTests
{
    private const int Width = 128;
    private const int Height = 64;
    private const double GuidanceScale = 7.0;

    private static StableDiffusion3 LoadTiny(string? folder = null) =>
        StableDiffusion3.LoadImageSide(folder ?? Sd3TestData.ModelFolder,
            new StableDiffusion3Options(DType: torch.ScalarType.Float32), null);

    private static torch.Tensor Golden(string name) => Sd3TestData.Golden("sd3", name);

    private static Sd3TextEmbeddings GoldenEmbeddings() => new(
        Golden("encode_prompt.prompt_embeds"), Golden("encode_prompt.negative_prompt_embeds"),
        Golden("encode_prompt.pooled_prompt_embeds"), Golden("encode_prompt.negative_pooled_prompt_embeds"));

    private static torch.Tensor GoldenImagesNchw() => Golden("pipe.images").permute(0, 3, 1, 2); // [1, 3, 64, 128]

    [Fact]
    public void Seed_zero_draws_the_reference_initial_latents_bit_for_bit()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using torch.Tensor latents = pipeline.PrepareLatents(1, Width, Height, seed: 0);
        using torch.Tensor expected = Golden("initial_latents");
        Assert.Equal(expected.data<float>().ToArray(), latents.data<float>().ToArray());
    }

    [Theory]
    [InlineData("randn_seed0_1x16x16x24", new long[] { 1, 16, 16, 24 })]
    [InlineData("randn_seed0_7", new long[] { 7 })]
    [InlineData("randn_seed0_2x3", new long[] { 2, 3 })]
    public void The_seeded_cpu_generator_reproduces_pytorch_randn(string name, long[] shape)
    {
        using var generator = new torch.Generator(0, torch.CPU);
        using torch.Tensor drawn = torch.randn(shape, torch.float32, torch.CPU, generator: generator);
        using torch.Tensor expected = Sd3TestData.Golden("misc", name);
        Assert.Equal(expected.data<float>().ToArray(), drawn.data<float>().ToArray());
    }

    [Fact]
    public void Each_denoising_step_matches_the_reference_scheduler_output()
    {
        using var scope = torch.NewDisposeScope();
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        torch.Tensor latents = Golden("initial_latents");
        for (int step = 0; step < 2; step++)
        {
            latents = pipeline.DenoiseStep(latents, embeddings, step, numSteps: 2, GuidanceScale);
            TensorAssert.Close(Golden($"pipe.scheduler_step.call{step}.out.0"), latents, 1e-4, 1e-4);
        }
        TensorAssert.Close(Golden("pipe.vae_decode.call0.out.0"), pipeline.Decode(latents), 1e-4, 1e-4);
    }

    [Fact]
    public void Whole_two_step_run_from_fixed_latents_gives_the_reference_image()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        using torch.Tensor initial = Golden("initial_latents");
        using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, numSteps: 2, GuidanceScale,
            seed: 123, width: Width, height: Height, initialLatents: initial, returnLatents: true);
        TensorAssert.Close(GoldenImagesNchw(), result.Images, 1e-3, 0);
        Assert.Equal(123, result.Seed);
        Assert.Equal([1L, 16, 8, 16], result.Latents!.shape);
    }

    [Fact]
    public void Whole_two_step_run_from_seed_zero_gives_the_reference_image_and_reports_each_step()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        var reports = new List<Sd3StepProgress>();
        using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, numSteps: 2, GuidanceScale,
            seed: 0, width: Width, height: Height, progress: new SynchronousProgress<Sd3StepProgress>(reports.Add));
        TensorAssert.Close(GoldenImagesNchw(), result.Images, 1e-3, 0);
        Assert.Equal([1, 2], reports.Select(report => report.Step));
        Assert.All(reports, report => Assert.Equal(2, report.TotalSteps));
        Assert.Null(result.Latents);
    }

    [Fact]
    public void Without_a_seed_one_is_drawn_and_reproduces_the_picture()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        using Sd3GenerationResult first = pipeline.GenerateFromEmbeddings(embeddings, 1, GuidanceScale, null, 32, 32);
        using Sd3GenerationResult again = pipeline.GenerateFromEmbeddings(embeddings, 1, GuidanceScale, first.Seed, 32, 32);
        TensorAssert.Close(first.Images, again.Images, 0, 0);
    }

    [Fact]
    public void Guidance_of_one_or_less_ignores_the_negative_prompt()
    {
        using var scope = torch.NewDisposeScope();
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        using var scrambled = new Sd3TextEmbeddings(Golden("encode_prompt.prompt_embeds"),
            torch.randn(1, 333, 96), Golden("encode_prompt.pooled_prompt_embeds"), torch.randn(1, 80));
        torch.Tensor latents = Golden("initial_latents");
        torch.Tensor plain = pipeline.DenoiseStep(latents, embeddings, 0, 2, guidanceScale: 1.0);
        TensorAssert.Close(plain, pipeline.DenoiseStep(latents, scrambled, 0, 2, guidanceScale: 1.0), 0, 0);
        torch.Tensor guided = pipeline.DenoiseStep(latents, scrambled, 0, 2, guidanceScale: 1.5);
        Assert.True((guided - plain).abs().max().item<float>() > 1e-3, "above 1 the negative prompt must matter");
    }

    [Fact]
    public void Cancellation_stops_between_steps()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = GoldenEmbeddings();
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<Sd3StepProgress>(_ => cancellation.Cancel());
        Assert.Throws<OperationCanceledException>(() => pipeline.GenerateFromEmbeddings(embeddings, 3, GuidanceScale,
            0, 32, 32, progress: progress, cancellationToken: cancellation.Token));
    }

    [Fact]
    public void Pixels_are_the_reference_images_rounded_to_eight_bits()
    {
        // The reference writes round(255 images) (numpy, half to even) from its [0, 1] output, which is the
        // decoder output mapped by x / 2 + 0.5 and clamped.
        using var scope = torch.NewDisposeScope();
        torch.Tensor pixels = StableDiffusion3.ToPixels(Golden("pipe.vae_decode.call0.out.0"));
        torch.Tensor expected = (GoldenImagesNchw() * 255).round().to(torch.uint8);
        Assert.Equal(torch.uint8, pixels.dtype);
        Assert.Equal(expected.data<byte>().ToArray(), pixels.data<byte>().ToArray());
        Assert.Equal(new byte[] { 0, 255 }, StableDiffusion3.ToPixels(torch.tensor(new[] { -3f, 3f })).data<byte>().ToArray());
    }

    [Theory]
    [InlineData(100, 64)]
    [InlineData(64, 0)]
    [InlineData(64, 4096)]
    public void Sizes_the_model_cannot_make_are_rejected(int width, int height)
    {
        using StableDiffusion3 pipeline = LoadTiny();
        ArgumentException error = Assert.Throws<ArgumentException>(() => pipeline.PrepareLatents(1, width, height, 0));
        Assert.Contains("multiple of 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_model_index_is_named()
    {
        string folder = Directory.CreateTempSubdirectory("sd3-empty").FullName;
        try
        {
            FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => LoadTiny(folder));
            Assert.Contains("model_index.json", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void An_unknown_component_class_lists_the_supported_ones()
    {
        string folder = CopyTinyModel();
        try
        {
            string index = Path.Combine(folder, "model_index.json");
            File.WriteAllText(index, File.ReadAllText(index).Replace("\"AutoencoderKL\"", "\"AutoencoderTiny\"",
                StringComparison.Ordinal));
            NotSupportedException error = Assert.Throws<NotSupportedException>(() => LoadTiny(folder));
            Assert.Contains("AutoencoderTiny", error.Message, StringComparison.Ordinal);
            Assert.Contains("supported: AutoencoderKL", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void Missing_transformer_weights_are_named()
    {
        string folder = CopyTinyModel();
        try
        {
            string weights = Path.Combine(folder, "transformer", "diffusion_pytorch_model.safetensors");
            var kept = new List<KeyValuePair<string, torch.Tensor>>();
            using (SafeTensorsFile file = SafeTensorsFile.Open(weights))
            {
                foreach (string name in file.Tensors.Keys.Where(name => name != "proj_out.weight"))
                    kept.Add(new(name, file.ReadTensor(name)));
            }
            File.Delete(weights);
            SafeTensorsWriter.Save(weights, kept);
            kept.ForEach(pair => pair.Value.Dispose());
            InvalidDataException error = Assert.Throws<InvalidDataException>(() => LoadTiny(folder));
            Assert.Contains("missing", error.Message, StringComparison.Ordinal);
            Assert.Contains("proj_out.weight", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static string CopyTinyModel()
    {
        string target = Directory.CreateTempSubdirectory("sd3-tiny").FullName;
        foreach (string file in Directory.GetFiles(Sd3TestData.ModelFolder, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(Sd3TestData.ModelFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
            File.SetAttributes(destination, FileAttributes.Normal);
        }
        return target;
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
