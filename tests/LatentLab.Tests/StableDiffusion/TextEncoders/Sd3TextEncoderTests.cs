using LatentLab.StableDiffusion.TextEncoders;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.TextEncoders;

public class Sd3TextEncoderTests
{
    private static Sd3TextEncoder Load(Sd3TextEncoderOptions? options = null, string? folder = null,
        torch.ScalarType dtype = torch.ScalarType.Float32) =>
        Sd3TextEncoder.Load(folder ?? TextGoldens.ModelFolder, options ?? new Sd3TextEncoderOptions(), dtype,
            torch.CPU);

    [Fact]
    public void Prompt_and_negative_prompt_embeddings_match_the_reference_encode_prompt()
    {
        using Sd3TextEncoder encoder = Load();

        // Batched as the pipeline does for guidance: [negative, positive].
        using Sd3PromptEmbedding embedding = encoder.Encode([TextGoldens.NegativePrompt, TextGoldens.Prompt]);

        Assert.Equal([2L, 333, 96], embedding.Sequence.shape);
        Assert.Equal([2L, 80], embedding.Pooled.shape);
        using torch.Tensor negative = TextGoldens.Tensor("encode_prompt.negative_prompt_embeds");
        using torch.Tensor positive = TextGoldens.Tensor("encode_prompt.prompt_embeds");
        using torch.Tensor negativePooled = TextGoldens.Tensor("encode_prompt.negative_pooled_prompt_embeds");
        using torch.Tensor positivePooled = TextGoldens.Tensor("encode_prompt.pooled_prompt_embeds");
        TensorAssert.Close(negative, embedding.Sequence[0..1], 1e-4, 1e-4, "negative sequence");
        TensorAssert.Close(positive, embedding.Sequence[1..2], 1e-4, 1e-4, "positive sequence");
        TensorAssert.Close(negativePooled, embedding.Pooled[0..1], 1e-4, 1e-4, "negative pooled");
        TensorAssert.Close(positivePooled, embedding.Pooled[1..2], 1e-4, 1e-4, "positive pooled");
    }

    [Fact]
    public void Without_t5_its_part_is_77_zero_tokens_as_in_the_reference_and_the_clip_part_is_unchanged()
    {
        using Sd3TextEncoder encoder = Load(new Sd3TextEncoderOptions(UseT5: false, MaxT5SequenceLength: 100));

        using Sd3PromptEmbedding embedding = encoder.Encode([TextGoldens.Prompt]);

        Assert.False(encoder.HasT5);
        // Width from transformer/config.json's joint_attention_dim, 96 for the tiny model; length CLIP's 77, as
        // diffusers sizes the stand-in zeros (tokenizer_max_length), whatever MaxT5SequenceLength says.
        Assert.Equal([1L, 77 + 77, 96], embedding.Sequence.shape);
        Assert.Equal(0, embedding.Sequence[.., 77..].abs().max().item<float>());
        using torch.Tensor positive = TextGoldens.Tensor("encode_prompt.prompt_embeds");
        TensorAssert.Close(positive[.., ..77], embedding.Sequence[.., ..77], 1e-4, 1e-4, "CLIP part");
        using torch.Tensor pooled = TextGoldens.Tensor("encode_prompt.pooled_prompt_embeds");
        TensorAssert.Close(pooled, embedding.Pooled, 1e-4, 1e-4, "pooled");
    }

    [Fact]
    public void Releasing_t5_gives_zeros_from_then_on()
    {
        using Sd3TextEncoder encoder = Load();
        using Sd3PromptEmbedding before = encoder.Encode([TextGoldens.Prompt]);
        Assert.True(before.Sequence[.., 77..].abs().max().item<float>() > 0.1f);

        encoder.ReleaseT5();
        using Sd3PromptEmbedding after = encoder.Encode([TextGoldens.Prompt]);

        Assert.False(encoder.HasT5);
        Assert.Equal([1L, 77 + 256, 96], before.Sequence.shape);
        Assert.Equal([1L, 77 + 77, 96], after.Sequence.shape);
        Assert.Equal(0, after.Sequence[.., 77..].abs().max().item<float>());
        TensorAssert.Equal(before.Sequence[.., ..77], after.Sequence[.., ..77], "CLIP part");
    }

    [Fact]
    public void Folder_without_text_encoder_3_encodes_with_zeros()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-sd3-no-t5-").FullName;
        try
        {
            foreach (string component in (string[])["tokenizer", "tokenizer_2", "text_encoder", "text_encoder_2",
                         "transformer"])
            {
                CopyFolder(Path.Combine(TextGoldens.ModelFolder, component), Path.Combine(folder, component));
            }
            using Sd3TextEncoder encoder = Load(folder: folder);

            using Sd3PromptEmbedding embedding = encoder.Encode([TextGoldens.Prompt]);

            Assert.False(encoder.HasT5);
            Assert.Equal([1L, 77 + 77, 96], embedding.Sequence.shape);   // CLIP part + the reference's 77 zero tokens
            Assert.Equal(0, embedding.Sequence[.., 77..].abs().max().item<float>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bfloat16_encoding_is_bfloat16_and_close_to_the_reference()
    {
        using Sd3TextEncoder encoder = Load(dtype: torch.ScalarType.BFloat16);

        using Sd3PromptEmbedding embedding = encoder.Encode([TextGoldens.Prompt]);

        Assert.Equal(torch.bfloat16, embedding.Sequence.dtype);
        Assert.Equal(torch.bfloat16, embedding.Pooled.dtype);
        using torch.Tensor positive = TextGoldens.Tensor("encode_prompt.prompt_embeds");
        TensorAssert.Close(positive, embedding.Sequence, 0.05, 0.05, "bfloat16 sequence");
    }

    [Fact]
    public void Truncated_words_are_those_beyond_clips_77_tokens()
    {
        using Sd3TextEncoder encoder = Load(new Sd3TextEncoderOptions(UseT5: false));
        string longPrompt = TextGoldens.Strings()[8];

        IReadOnlyList<string> dropped = encoder.TruncatedWords(longPrompt);

        Assert.Empty(encoder.TruncatedWords(TextGoldens.Prompt));
        // The golden ids keep 75 tokens: 10 for each "a red apple on a wooden table, studio lighting" ("table,"
        // is two), so 7 whole repetitions and "a red apple on a" of the eighth; the rest is dropped.
        string[] words = longPrompt.Split(' ');
        Assert.Equal(words[(7 * 9 + 5)..], dropped);
    }

    [Fact]
    public void A_missing_t5_and_a_truncated_prompt_are_each_logged_as_one_warning()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-sd3-log-").FullName;
        try
        {
            foreach (string component in (string[])["tokenizer", "tokenizer_2", "text_encoder", "text_encoder_2",
                         "transformer"])
            {
                CopyFolder(Path.Combine(TextGoldens.ModelFolder, component), Path.Combine(folder, component));
            }
            var logs = new CollectingLoggerFactory();
            using Sd3TextEncoder encoder = Sd3TextEncoder.Load(folder, new Sd3TextEncoderOptions(), torch.float32,
                torch.CPU, logs);

            using Sd3PromptEmbedding embedding = encoder.Encode([TextGoldens.Strings()[8], "a cat"]);

            string[] warnings = logs.Messages.Where(entry => entry.Level == LogLevel.Warning)
                .Select(entry => entry.Text).ToArray();
            Assert.Equal(2, warnings.Length);
            Assert.Contains("text_encoder_3", warnings[0], StringComparison.Ordinal);
            Assert.Contains("dropped: wooden table, studio lighting a red", warnings[1], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Unsupported_dtype_and_t5_length_are_clear_errors()
    {
        ArgumentException dtype = Assert.Throws<ArgumentException>(
            () => Load(dtype: torch.ScalarType.Float16));
        ArgumentException length = Assert.Throws<ArgumentException>(
            () => Load(new Sd3TextEncoderOptions(MaxT5SequenceLength: 0)));

        Assert.Contains("BFloat16", dtype.Message, StringComparison.Ordinal);
        Assert.Contains("1 to 512", length.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Folder_without_a_clip_tokenizer_is_an_error_naming_it()
    {
        string folder = Directory.CreateTempSubdirectory("latentlab-sd3-empty-").FullName;
        try
        {
            DirectoryNotFoundException error = Assert.Throws<DirectoryNotFoundException>(() => Load(folder: folder));

            Assert.Contains("tokenizer/", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>Keeps every log entry of every logger it creates.</summary>
    private sealed class CollectingLoggerFactory : ILoggerFactory
    {
        public List<(LogLevel Level, string Text)> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => new CollectingLogger(Messages);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class CollectingLogger(List<(LogLevel, string)> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter) => messages.Add((logLevel, formatter(state, exception)));
        }
    }
}
