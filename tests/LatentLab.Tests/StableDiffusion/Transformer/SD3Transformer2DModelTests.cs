using LatentLab.StableDiffusion.Transformer;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Transformer;

public class SD3Transformer2DModelTests
{
    private const double Tolerance = 1e-4;
    private const string Inner = "pipe.inner.transformer_call0.";

    private static SD3Transformer2DModel LoadTiny()
    {
        string folder = Path.Combine(Sd3TestData.ModelFolder, "transformer");
        var model = new SD3Transformer2DModel(SD3TransformerConfig.Load(Path.Combine(folder, "config.json")));
        Sd3TestData.LoadWeights(model, "transformer");
        model.eval();
        return model;
    }

    private static torch.Tensor Golden(string name) => Sd3TestData.Golden("sd3", name);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Each_call_of_the_reference_run_is_reproduced(int call)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        SD3Transformer2DModel model = LoadTiny();
        string prefix = $"pipe.transformer.call{call}.";
        torch.Tensor output = model.forward(
            Golden(prefix + "in.hidden_states"), Golden(prefix + "in.encoder_hidden_states"),
            Golden(prefix + "in.pooled_projections"), Golden(prefix + "in.timestep"));
        TensorAssert.Close(Golden(prefix + "out.0"), output, Tolerance, Tolerance);
    }

    [Fact]
    public void Inner_stages_of_the_first_call_match_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        SD3Transformer2DModel model = LoadTiny();
        torch.Tensor latents = Golden("pipe.transformer.call0.in.hidden_states");
        torch.Tensor prompt = Golden("pipe.transformer.call0.in.encoder_hidden_states");
        torch.Tensor pooled = Golden("pipe.transformer.call0.in.pooled_projections");
        torch.Tensor timesteps = Golden("pipe.transformer.call0.in.timestep");

        torch.Tensor image = model.PosEmbed.forward(latents);
        TensorAssert.Close(Golden(Inner + "pos_embed.out"), image, Tolerance, Tolerance);
        TensorAssert.Close(Golden(Inner + "time_text_embed.time_proj.out"),
            CombinedTimestepTextProjEmbeddings.TimestepFeatures(timesteps, 256), Tolerance, Tolerance);
        torch.Tensor conditioning = model.TimeTextEmbed.forward(timesteps, pooled);
        TensorAssert.Close(Golden(Inner + "time_text_embed.out"), conditioning, Tolerance, Tolerance);
        torch.Tensor context = model.ContextEmbedder.forward(prompt);
        TensorAssert.Close(Golden(Inner + "context_embedder.out"), context, Tolerance, Tolerance);

        (torch.Tensor? context1, torch.Tensor image1) = model.Blocks[0].forward(image, context, conditioning);
        TensorAssert.Close(Golden(Inner + "transformer_blocks.0.out.0"), context1!, Tolerance, Tolerance);
        TensorAssert.Close(Golden(Inner + "transformer_blocks.0.out.1"), image1, Tolerance, Tolerance);
        (torch.Tensor? context2, torch.Tensor image2) = model.Blocks[1].forward(image1, context1!, conditioning);
        Assert.Null(context2);
        TensorAssert.Close(Golden(Inner + "transformer_blocks.1.out.1"), image2, Tolerance, Tolerance);
        TensorAssert.Close(Golden(Inner + "norm_out.out"), model.NormOut.forward(image2, conditioning),
            Tolerance, Tolerance);
    }

    [Fact]
    public void Position_table_equals_the_stored_one_centre_crop_included()
    {
        using var scope = torch.NewDisposeScope();
        var config = SD3TransformerConfig.Load(Path.Combine(Sd3TestData.ModelFolder, "transformer", "config.json"));
        torch.Tensor stored = Sd3TestData.ModelTensor("transformer", "pos_embed.pos_embed");
        torch.Tensor computed = PatchEmbed.SinCosTable(config.InnerDim, config.PosEmbedMaxSize,
            config.SampleSize / config.PatchSize).unsqueeze(0);
        TensorAssert.Close(stored, computed, 1e-6);
    }

    [Fact]
    public void Weights_are_in_bfloat16_when_asked_and_the_output_stays_close()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        SD3Transformer2DModel model = LoadTiny();
        model.to(torch.bfloat16);
        string prefix = "pipe.transformer.call0.";
        torch.Tensor output = model.forward(
            Golden(prefix + "in.hidden_states"), Golden(prefix + "in.encoder_hidden_states"),
            Golden(prefix + "in.pooled_projections"), Golden(prefix + "in.timestep"));
        Assert.Equal(torch.bfloat16, output.dtype);
        torch.Tensor expected = Golden(prefix + "out.0");
        double relative = ((output.to(torch.float32) - expected).norm() / expected.norm()).item<float>();
        Assert.InRange(relative, 0, 0.05);
    }

    [Fact]
    public void SD35_features_are_a_clear_not_supported_error()
    {
        var config = new SD3TransformerConfig(NumLayers: 2, AttentionHeadDim: 8, NumAttentionHeads: 4,
            CaptionProjectionDim: 32, QkNorm: "rms_norm");
        NotSupportedException error = Assert.Throws<NotSupportedException>(() => new SD3Transformer2DModel(config));
        Assert.Contains("qk_norm", error.Message, StringComparison.Ordinal);
        var dual = config with { QkNorm = null, DualAttentionLayers = [0] };
        error = Assert.Throws<NotSupportedException>(() => new SD3Transformer2DModel(dual));
        Assert.Contains("dual_attention_layers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_caption_projection_of_another_width_is_rejected()
    {
        var config = new SD3TransformerConfig(NumLayers: 2, AttentionHeadDim: 8, NumAttentionHeads: 4,
            CaptionProjectionDim: 48);
        Assert.Throws<InvalidDataException>(() => new SD3Transformer2DModel(config));
    }
}
