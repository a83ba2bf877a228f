namespace LatentLab.StableDiffusion.TextEncoders;

/// <summary>
/// How Stable Diffusion 3 encodes prompts (dtype and device are given to <see cref="Sd3TextEncoder.Load"/>).
/// </summary>
/// <param name="UseT5">
/// Load and run the T5 encoder (<c>text_encoder_3</c>, about 9 GB in bfloat16 for T5-XXL). Off, or when the folder has
/// no T5, its part of the prompt embedding is zeros, as in the reference pipeline. Default on.
/// </param>
/// <param name="MaxT5SequenceLength">
/// Number of T5 tokens (and of rows in the T5 part of the embedding, zeros included); 1 to 512, default 256 as in the
/// reference pipeline.
/// </param>
public sealed record Sd3TextEncoderOptions(bool UseT5 = true, int MaxT5SequenceLength = 256);
