using System.Text;
using LatentLab.StableDiffusion.Checkpoints;
using LatentLab.StableDiffusion.Pipeline;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Tests.StableDiffusion.Transformer;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Checkpoints;

/// <summary>Stability's single-file layout, written by the tests from the tiny model, loaded back.</summary>
public class Sd3SingleFileTests
{
    private static Dictionary<string, torch.Tensor> Component(string name)
    {
        using TensorSource source = TensorSource.OpenFolder(Path.Combine(Sd3TestData.ModelFolder, name));
        return source.Names.ToDictionary(key => key, key => source.Read(key));
    }

    /// <summary>The tiny model as one original-layout file, with or without the text encoders.</summary>
    internal static string WriteTinySingleFile(string folder, bool includeTextEncoders, bool clipLProjection = true)
    {
        var tensors = new Dictionary<string, torch.Tensor>();
        foreach ((string key, torch.Tensor value) in OriginalLayout.Transformer(Component("transformer"), numLayers: 2))
            tensors.Add(key, value);
        foreach ((string key, torch.Tensor value) in OriginalLayout.Vae(Component("vae"), levels: 4))
            tensors.Add(key, value);
        if (includeTextEncoders)
        {
            foreach ((string component, string prefix) in new[]
                     {
                         ("text_encoder", Sd3SingleFile.ClipLPrefix), ("text_encoder_2", Sd3SingleFile.ClipGPrefix),
                         ("text_encoder_3", Sd3SingleFile.T5Prefix),
                     })
            {
                foreach ((string key, torch.Tensor value) in Component(component))
                {
                    if (clipLProjection || component != "text_encoder" || key != "text_projection.weight")
                        tensors.Add(prefix + key, value);
                }
            }
        }
        string path = Path.Combine(folder, includeTextEncoders ? "sd3_tiny_incl_clips_t5.safetensors" : "sd3_tiny.safetensors");
        SafeTensorsWriter.Save(path, tensors);
        return path;
    }

    /// <summary>A copy of the tiny folder with its configs and tokenizers but no weights at all.</summary>
    private static string ConfigsAndTokenizersOnly(bool withT5Config = true)
    {
        string target = TestPaths.NewTemporaryFolder();
        foreach (string file in Directory.GetFiles(Sd3TestData.ModelFolder, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".safetensors", StringComparison.Ordinal)) continue;
            if (!withT5Config && file.Contains("text_encoder_3", StringComparison.Ordinal)) continue;
            string copy = Path.Combine(target, Path.GetRelativePath(Sd3TestData.ModelFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return target;
    }

    [Fact]
    public void A_single_file_with_original_key_names_gives_the_same_image_as_the_folder()
    {
        string path = WriteTinySingleFile(TestPaths.NewTemporaryFolder(), includeTextEncoders: true);
        var options = new StableDiffusion3Options(torch.ScalarType.Float32);

        using torch.Tensor expected = Generate(StableDiffusion3.Load(Sd3TestData.ModelFolder, options));
        // The folder given for the tokenizers has no weights: everything else must come from the file.
        using torch.Tensor actual = Generate(StableDiffusion3.Load(path, ConfigsAndTokenizersOnly(), options));
        TensorAssert.Close(expected, actual, 1e-5, 1e-5);

        static torch.Tensor Generate(StableDiffusion3 pipeline)
        {
            using (pipeline)
            {
                using Sd3GenerationResult result = pipeline.Generate("a red cube on a blue floor", "", numSteps: 2,
                    guidanceScale: 7.0, seed: 0, width: 128, height: 64);
                return result.Images.clone();
            }
        }
    }

    [Fact]
    public void The_file_s_T5_is_used_with_its_sizes_read_from_the_shapes_when_the_folder_has_no_text_encoder_3()
    {
        string path = WriteTinySingleFile(TestPaths.NewTemporaryFolder(), includeTextEncoders: true);
        var options = new StableDiffusion3Options(torch.ScalarType.Float32);
        using StableDiffusion3 folder = StableDiffusion3.Load(Sd3TestData.ModelFolder, options);
        using StableDiffusion3 single = StableDiffusion3.Load(path, ConfigsAndTokenizersOnly(withT5Config: false), options);
        Assert.True(single.HasT5);
        using Sd3TextEmbeddings expected = folder.EncodeText("a red cube", "");
        using Sd3TextEmbeddings actual = single.EncodeText("a red cube", "");
        TensorAssert.Close(expected.PromptEmbeds, actual.PromptEmbeds, 1e-6, 1e-6);
    }

    [Fact]
    public void A_clip_l_without_its_projection_takes_it_from_the_folder()
    {
        string path = WriteTinySingleFile(TestPaths.NewTemporaryFolder(), includeTextEncoders: true,
            clipLProjection: false);
        var options = new StableDiffusion3Options(torch.ScalarType.Float32, UseT5: false);
        using StableDiffusion3 folder = StableDiffusion3.Load(Sd3TestData.ModelFolder, options);
        using StableDiffusion3 single = StableDiffusion3.Load(path, Sd3TestData.ModelFolder, options);
        using Sd3TextEmbeddings expected = folder.EncodeText("a red cube", "");
        using Sd3TextEmbeddings actual = single.EncodeText("a red cube", "");
        TensorAssert.Equal(expected.PooledPromptEmbeds, actual.PooledPromptEmbeds);

        // Without weights in the folder to take it from, the error names the missing tensor.
        InvalidDataException error = Assert.Throws<InvalidDataException>(
            () => StableDiffusion3.Load(path, ConfigsAndTokenizersOnly(), options));
        Assert.Contains("text_projection.weight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_clips_in_the_file_and_without_a_folder_the_error_says_what_to_pass()
    {
        string path = WriteTinySingleFile(TestPaths.NewTemporaryFolder(), includeTextEncoders: false);
        ArgumentException error = Assert.Throws<ArgumentException>(() => StableDiffusion3.LoadSingleFile(path, null,
            new StableDiffusion3Options(torch.ScalarType.Float32)));
        Assert.Contains("no CLIP text encoders", error.Message, StringComparison.Ordinal);
        Assert.Contains("diffusers Stable Diffusion 3 folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tensor_the_layout_does_not_know_is_reported_by_its_original_name()
    {
        string folder = TestPaths.NewTemporaryFolder();
        var tensors = OriginalLayout.Transformer(Component("transformer"), numLayers: 2);
        tensors.Add("model.diffusion_model.joint_blocks.0.x_block.attn.extra.weight", torch.zeros(3));
        tensors.Add("first_stage_model.decoder.conv_in.weight", torch.zeros(16, 16, 3, 3));
        string path = Path.Combine(folder, "odd.safetensors");
        SafeTensorsWriter.Save(path, tensors);

        using Sd3SingleFile file = Sd3SingleFile.Open(path);
        using var model = new SD3Transformer2DModel(file.InferTransformerConfig(headDim: 8));
        InvalidDataException error = Assert.Throws<InvalidDataException>(
            () => ModuleWeights.Load(model, file.TransformerWeights()));
        Assert.Contains("unexpected model.diffusion_model.joint_blocks.0.x_block.attn.extra.weight", error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_tiny_transformer_and_vae_sizes_are_read_from_the_shapes()
    {
        string path = WriteTinySingleFile(TestPaths.NewTemporaryFolder(), includeTextEncoders: false);
        using Sd3SingleFile file = Sd3SingleFile.Open(path);
        Assert.False(file.HasClipL);
        var expected = SD3TransformerConfig.Load(Path.Combine(Sd3TestData.ModelFolder, "transformer", "config.json"));
        // Without qk norm nothing in the file says the head width; the tiny model's is 8.
        SD3TransformerConfig inferred = file.InferTransformerConfig(headDim: 8);
        Assert.Equal(expected with { SampleSize = 0, DualAttentionLayers = null },
            inferred with { SampleSize = 0, DualAttentionLayers = null });
        Assert.Empty(inferred.DualAttentionLayers!);
        Assert.Throws<InvalidDataException>(() => file.InferTransformerConfig());   // 64-wide heads do not divide 32

        var vae = LatentLab.StableDiffusion.Autoencoder.AutoencoderKLConfig.Load(
            Path.Combine(Sd3TestData.ModelFolder, "vae", "config.json"));
        var inferredVae = file.InferVaeConfig(normNumGroups: 4);
        Assert.Equal([8, 16, 16, 16], inferredVae.ResolvedBlockOutChannels);
        Assert.True(MmditCheckpointLayout.Fits(expected, inferred));
        Assert.True(LdmVaeCheckpointLayout.Fits(vae, inferredVae));
        Assert.Equal(vae.LayersPerBlock, inferredVae.LayersPerBlock);
        Assert.Equal(vae.ScalingFactor, inferredVae.ScalingFactor);
        Assert.Equal(vae.ShiftFactor, inferredVae.ShiftFactor);
    }

    [Fact]
    public void An_SD35_style_transformer_loads_from_the_original_layout_with_its_config_inferred()
    {
        string folder = TestPaths.NewTemporaryFolder();
        SD3TransformerConfig config = SD35TransformerTests.WriteAndLoadConfig(folder);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using SD3Transformer2DModel original = SD35TransformerTests.Build(config, 1);
        var tensors = OriginalLayout.Transformer(original.state_dict(), config.NumLayers);
        Assert.Contains("model.diffusion_model.joint_blocks.0.x_block.attn2.qkv.weight", tensors.Keys);
        Assert.Contains("model.diffusion_model.joint_blocks.1.context_block.attn.ln_q.weight", tensors.Keys);
        // A VAE is part of every single file; the smallest decoder that fits the layout will do here.
        tensors.Add("first_stage_model.decoder.conv_in.weight", torch.zeros(32, 16, 3, 3));
        string path = Path.Combine(folder, "sd3.5_tiny.safetensors");
        SafeTensorsWriter.Save(path, tensors);

        using Sd3SingleFile file = Sd3SingleFile.Open(path);
        SD3TransformerConfig inferred = file.InferTransformerConfig();
        Assert.Equal(config with { SampleSize = 0, DualAttentionLayers = null },
            inferred with { SampleSize = 0, DualAttentionLayers = null });
        Assert.Equal([0], inferred.DualAttentionLayers!);

        using SD3Transformer2DModel loaded = SD35TransformerTests.Build(inferred, 2);
        ModuleWeights.Load(loaded, file.TransformerWeights());
        torch.manual_seed(7);
        torch.Tensor latents = torch.randn(1, 16, 8, 8);
        torch.Tensor prompt = torch.randn(1, 5, 48);
        torch.Tensor pooled = torch.randn(1, 40);
        torch.Tensor timesteps = torch.tensor(new[] { 500f });
        TensorAssert.Equal(original.forward(latents, prompt, pooled, timesteps),
            loaded.forward(latents, prompt, pooled, timesteps));
    }

    [Fact]
    public void Float8_e4m3_weights_convert_to_the_right_floats_through_the_loader()
    {
        // Bytes and their e4m3fn values: 1, -1, 2, 448 (largest), 2^-9 (smallest subnormal), 1.125.
        byte[] bits = [0x38, 0xB8, 0x40, 0x7E, 0x01, 0x39];
        float[] values = [1f, -1f, 2f, 448f, 1f / 512, 1.125f];
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "sd3_fp8.safetensors");
        WriteRaw(path,
        [
            (Sd3SingleFile.T5Prefix + "shared.weight", "F8_E4M3", [2, 3], bits),
            (MmditCheckpointLayout.Prefix + "x_embedder.proj.weight", "F32", [1], new byte[4]),
            (LdmVaeCheckpointLayout.Prefix + "decoder.conv_in.weight", "F32", [1], new byte[4]),
        ]);

        using Sd3SingleFile file = Sd3SingleFile.Open(path);
        Assert.True(file.HasT5);
        ITensorSource t5 = file.T5Weights()!;
        Assert.Equal([2L, 3], t5.ShapeOf("shared.weight"));
        using torch.Tensor read = t5.Read("shared.weight", torch.ScalarType.Float32);
        TensorAssert.Equal(torch.tensor(values, [2, 3]), read);

        using var embedding = torch.nn.Embedding(2, 3);
        ModuleWeights.Load(embedding, t5, name => name == "shared.weight" ? "weight" : null);
        TensorAssert.Equal(torch.tensor(values, [2, 3]), embedding.weight!.detach());
    }

    /// <summary>A safetensors file written byte by byte, for dtypes the writer does not produce.</summary>
    private static void WriteRaw(string path, IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach ((string name, string dtype, long[] shape, byte[] data) in tensors)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}]," +
                          $"\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        using FileStream stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header.ToString()));
        foreach ((string _, string _, long[] _, byte[] data) in tensors) stream.Write(data);
    }
}
