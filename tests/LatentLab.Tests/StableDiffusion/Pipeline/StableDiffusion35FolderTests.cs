using LatentLab.StableDiffusion.Pipeline;
using LatentLab.StableDiffusion.Transformer;
using LatentLab.Tests.StableDiffusion.Transformer;
using LatentLab.Weights;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Pipeline;

/// <summary>An SD 3.5-style diffusers folder (qk norm, one MMDiT-X block) through the whole pipeline.</summary>
public class StableDiffusion35FolderTests
{
    // The tiny SD3 model's sizes, with SD 3.5's two transformer features switched on.
    private const string TransformerConfig = """
        {
          "_class_name": "SD3Transformer2DModel", "attention_head_dim": 8, "num_attention_heads": 4,
          "caption_projection_dim": 32, "num_layers": 2, "in_channels": 16, "out_channels": 16, "patch_size": 2,
          "joint_attention_dim": 96, "pooled_projection_dim": 80, "pos_embed_max_size": 24, "sample_size": 32,
          "qk_norm": "rms_norm", "dual_attention_layers": [0]
        }
        """;

    private static string Sd35Folder()
    {
        string target = TestPaths.NewTemporaryFolder();
        foreach (string file in Directory.GetFiles(Sd3TestData.ModelFolder, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(Sd3TestData.ModelFolder, file);
            if (relative.StartsWith("transformer", StringComparison.Ordinal)) continue;
            string copy = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        string transformer = Path.Combine(target, "transformer");
        Directory.CreateDirectory(transformer);
        File.WriteAllText(Path.Combine(transformer, "config.json"), TransformerConfig);
        using SD3Transformer2DModel model = SD35TransformerTests.Build(
            SD3TransformerConfig.Load(Path.Combine(transformer, "config.json")), 5);
        ModuleWeights.Save(model, Path.Combine(transformer, "diffusion_pytorch_model.safetensors"));
        return target;
    }

    [Fact]
    public void A_folder_whose_config_asks_for_qk_norm_and_dual_attention_generates()
    {
        string folder = Sd35Folder();
        using StableDiffusion3 pipeline = StableDiffusion3.Load(folder,
            new StableDiffusion3Options(torch.ScalarType.Float32, UseT5: false));
        Assert.True(pipeline.TransformerConfig.UsesQkNorm);
        Assert.Equal([0], pipeline.TransformerConfig.DualAttentionLayers!);
        using Sd3GenerationResult result = pipeline.Generate("a lighthouse", "", numSteps: 2, seed: 0, width: 64,
            height: 64);
        Assert.Equal([1L, 3, 64, 64], result.Images.shape);
        Assert.True(result.Images.isfinite().all().item<bool>());
    }

    [Fact]
    public void The_sd35_transformer_runs_in_bfloat16_close_to_float32()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        SD3TransformerConfig config = SD35TransformerTests.WriteAndLoadConfig(TestPaths.NewTemporaryFolder());
        using SD3Transformer2DModel model = SD35TransformerTests.Build(config, 1);
        torch.manual_seed(7);
        torch.Tensor latents = torch.randn(1, 16, 8, 8);
        torch.Tensor prompt = torch.randn(1, 5, 48);
        torch.Tensor pooled = torch.randn(1, 40);
        torch.Tensor timesteps = torch.tensor(new[] { 500f });
        torch.Tensor expected = model.forward(latents, prompt, pooled, timesteps);
        model.to(torch.bfloat16);
        torch.Tensor output = model.forward(latents, prompt, pooled, timesteps);
        Assert.Equal(torch.bfloat16, output.dtype);
        double relative = ((output.to(torch.float32) - expected).norm() / expected.norm()).item<float>();
        Assert.InRange(relative, 0, 0.05);
    }
}
