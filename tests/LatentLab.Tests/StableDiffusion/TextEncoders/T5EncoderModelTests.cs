using LatentLab.StableDiffusion.TextEncoders;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.TextEncoders;

public class T5EncoderModelTests
{
    [Fact]
    public void Every_hidden_state_matches_transformers()
    {
        using var model = T5EncoderModel.Load(Path.Combine(TextGoldens.ModelFolder, "text_encoder_3"),
            torch.float32, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_3.input_ids");

        using (torch.no_grad())
        using (T5EncoderOutput output = model.Encode(inputIds, keepHiddenStates: true))
        {
            Assert.Equal(model.Config.NumLayers + 1, output.HiddenStates.Count);
            for (int i = 0; i < output.HiddenStates.Count; i++)
            {
                using torch.Tensor expected = TextGoldens.Tensor($"text_encoder_3.hidden_states{i}");
                TensorAssert.Close(expected, output.HiddenStates[i], 1e-5, 1e-4, $"T5 hidden state {i}");
            }
            using torch.Tensor last = TextGoldens.Tensor("text_encoder_3.last_hidden_state");
            TensorAssert.Close(last, output.LastHiddenState, 1e-5, 1e-4, "T5 last hidden state");
        }
    }

    [Fact]
    public void Bfloat16_weights_give_bfloat16_states_close_to_the_float32_golden()
    {
        using var model = T5EncoderModel.Load(Path.Combine(TextGoldens.ModelFolder, "text_encoder_3"),
            torch.bfloat16, torch.CPU);
        using torch.Tensor inputIds = TextGoldens.Tensor("text_encoder_3.input_ids");

        using (torch.no_grad())
        using (T5EncoderOutput output = model.forward(inputIds))
        {
            Assert.Equal(torch.bfloat16, output.LastHiddenState.dtype);
            Assert.Empty(output.HiddenStates);
            using torch.Tensor last = TextGoldens.Tensor("text_encoder_3.last_hidden_state");
            TensorAssert.Close(last, output.LastHiddenState, 0.05, 0.05, "bfloat16 T5 last hidden state");
        }
    }

    [Fact]
    public void Relative_position_buckets_follow_the_t5_formula()
    {
        // 32 buckets, max distance 128: 16 per direction, exact below 8, logarithmic from 8 up to 128.
        using torch.Tensor distances = torch.tensor(new long[] { 0, -1, -7, -8, -12, -127, -500, 1, 7, 8, 20, 300 });

        using torch.Tensor buckets = T5Attention.RelativePositionBuckets(distances, 32, 128);

        // Negative (key before query) in 0..15, positive in 16..31; large ones via 8 + log(d/8)/log(16) * 8.
        long[] expected = [0, 1, 7, 8, 9, 15, 15, 17, 23, 24, 26, 31];
        Assert.Equal(expected, buckets.data<long>().ToArray());
    }

    [Fact]
    public void Unsupported_feed_forward_is_an_error_listing_the_supported_ones()
    {
        var config = new T5EncoderConfig { FeedForwardProj = "gated-mish" };

        NotSupportedException error = Assert.Throws<NotSupportedException>(() => config.Validate("config.json"));

        Assert.Contains("gated-gelu", error.Message, StringComparison.Ordinal);
    }
}
