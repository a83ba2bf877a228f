using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Pipeline;

/// <summary>The whole pipeline, text encoders included, against the reference's 2-step run.</summary>
public class StableDiffusion3Tests
{
    private static StableDiffusion3 LoadTiny(bool useT5 = true, bool releaseT5 = false) =>
        StableDiffusion3.Load(Sd3TestData.ModelFolder,
            new StableDiffusion3Options(torch.ScalarType.Float32, UseT5: useT5, ReleaseT5AfterEncoding: releaseT5));

    private static string Prompt => Sd3TestData.Scalars("sd3").GetProperty("prompt").GetString()!;

    private static torch.Tensor Golden(string name) => Sd3TestData.Golden("sd3", name);

    [Fact]
    public void EncodeText_gives_the_reference_four_tensors()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(Prompt, "");
        TensorAssert.Close(Golden("encode_prompt.prompt_embeds"), embeddings.PromptEmbeds, 1e-4, 1e-4);
        TensorAssert.Close(Golden("encode_prompt.negative_prompt_embeds"), embeddings.NegativePromptEmbeds, 1e-4, 1e-4);
        TensorAssert.Close(Golden("encode_prompt.pooled_prompt_embeds"), embeddings.PooledPromptEmbeds, 1e-4, 1e-4);
        TensorAssert.Close(Golden("encode_prompt.negative_pooled_prompt_embeds"), embeddings.NegativePooledPromptEmbeds,
            1e-4, 1e-4);
    }

    [Fact]
    public void Generate_from_the_prompt_and_seed_zero_gives_the_reference_image()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        using Sd3GenerationResult result = pipeline.Generate(Prompt, "", numSteps: 2, guidanceScale: 7.0, seed: 0,
            width: 128, height: 64);
        TensorAssert.Close(Golden("pipe.images").permute(0, 3, 1, 2), result.Images, 1e-3, 0);
        Assert.Equal(0, result.Seed);
    }

    [Fact]
    public void Without_T5_its_part_of_the_sequence_is_zeros_and_the_clip_part_is_unchanged()
    {
        using StableDiffusion3 pipeline = LoadTiny(useT5: false);
        Assert.False(pipeline.HasT5);
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(Prompt, "");
        using torch.Tensor t5Part = embeddings.PromptEmbeds[.., 77..];
        Assert.Equal(77 + 77, embeddings.PromptEmbeds.shape[1]);   // the reference's 77 stand-in zero tokens
        Assert.Equal(0f, t5Part.abs().max().item<float>());
        TensorAssert.Close(Golden("encode_prompt.prompt_embeds")[.., ..77], embeddings.PromptEmbeds[.., ..77], 1e-4, 1e-4);
        TensorAssert.Close(Golden("encode_prompt.pooled_prompt_embeds"), embeddings.PooledPromptEmbeds, 1e-4, 1e-4);
    }

    [Fact]
    public void T5_can_be_released_after_encoding_and_the_transformer_is_read_only_then()
    {
        using StableDiffusion3 pipeline = LoadTiny(releaseT5: true);
        Assert.True(pipeline.HasT5);
        Assert.False(pipeline.IsTransformerLoaded);
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(Prompt, "");
        Assert.False(pipeline.HasT5);
        TensorAssert.Close(Golden("encode_prompt.prompt_embeds"), embeddings.PromptEmbeds, 1e-4, 1e-4);
        using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, 2, 7.0, seed: 0, width: 128,
            height: 64);
        Assert.True(pipeline.IsTransformerLoaded);
        TensorAssert.Close(Golden("pipe.images").permute(0, 3, 1, 2), result.Images, 1e-3, 0);
    }

    [Fact]
    public void After_releasing_the_text_encoders_denoising_still_works_and_encoding_is_a_clear_error()
    {
        using StableDiffusion3 pipeline = LoadTiny(useT5: false, releaseT5: true);
        using Sd3TextEmbeddings embeddings = pipeline.EncodeText(Prompt, "");
        pipeline.ReleaseTextEncoders();
        Assert.False(pipeline.IsTransformerLoaded);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => pipeline.EncodeText("a", ""));
        Assert.Contains("released", error.Message, StringComparison.Ordinal);
        using Sd3GenerationResult result = pipeline.GenerateFromEmbeddings(embeddings, 1, 7.0, seed: 0, width: 32,
            height: 32);
        Assert.Equal([1L, 3, 32, 32], result.Images.shape);
    }

    [Fact]
    public void A_negative_prompt_count_that_does_not_match_is_rejected()
    {
        using StableDiffusion3 pipeline = LoadTiny();
        Assert.Throws<ArgumentException>(() => pipeline.EncodeText(["a", "b"], ["only one"]));
    }
}
