using LatentLab.StableDiffusion.Pipeline;
using TorchSharp;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>
/// One frame of a morph or walk: its conditioning and initial noise, made only when the frame is rendered, and the
/// parameters text that identifies it on disk (a finished frame with the same text is not rendered again).
/// </summary>
internal sealed record WalkFrame(string Parameters, Func<Sd3TextEmbeddings> Embeddings, Func<torch.Tensor> Noise);
