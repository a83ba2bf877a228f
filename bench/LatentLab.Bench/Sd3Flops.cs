using LatentLab.StableDiffusion.Autoencoder;
using LatentLab.StableDiffusion.Transformer;

namespace LatentLab.Bench;

/// <summary>
/// Floating-point operations (a multiply-add counts 2) of the SD3 components, counted from their configs: the
/// matrix products and convolutions, which are all but a fraction of a percent of the work.
/// </summary>
public static class Sd3Flops
{
    /// <summary>One transformer call on <paramref name="batch"/> latents of h x w with L text tokens.</summary>
    public static double TransformerCall(SD3TransformerConfig config, int batch, int latentHeight, int latentWidth,
        int textTokens)
    {
        double d = config.InnerDim;
        double p = config.PatchSize;
        double image = latentHeight / p * (latentWidth / p);
        double text = textTokens;
        double all = image + text;
        double flops = 2 * image * (config.InChannels * p * p) * d       // patch embedding
                       + 2 * (256 * d + d * d + config.PooledProjectionDim * d + d * d) // timestep + pooled MLPs
                       + 2 * text * config.JointAttentionDim * d;       // context embedder
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            bool last = layer == config.NumLayers - 1;
            flops += 2 * 6 * d * d + 2 * (last ? 2 : 6) * d * d;      // adaptive norms' linear maps
            flops += 2 * all * 3 * d * d;                              // q, k, v of both streams
            flops += 2 * 2 * all * all * d;                            // Q K^T and attention x V
            flops += 2 * (image + (last ? 0 : text)) * d * d;          // output projections
            flops += 2 * (image + (last ? 0 : text)) * 8 * d * d;      // MLPs (4x wide, two matrices)
        }
        flops += 2 * 2 * d * d + 2 * image * d * (p * p * config.ResolvedOutChannels); // norm_out, proj_out
        return batch * flops;
    }

    /// <summary>One VAE decode of a latent of h x w.</summary>
    public static double VaeDecode(AutoencoderKLConfig config, int latentHeight, int latentWidth)
    {
        IReadOnlyList<int> channels = config.ResolvedBlockOutChannels;
        double pixels = (double)latentHeight * latentWidth;
        int coarsest = channels[^1];
        double flops = Conv(config.LatentChannels, coarsest, 3, pixels);
        flops += 2 * Resnet(coarsest, coarsest, pixels);
        if (config.MidBlockAddAttention) flops += 2 * 4 * pixels * coarsest * coarsest + 2 * 2 * pixels * pixels * coarsest;
        int previous = coarsest;
        for (int level = 0; level < channels.Count; level++)
        {
            int output = channels[channels.Count - 1 - level];
            for (int i = 0; i <= config.LayersPerBlock; i++) flops += Resnet(i == 0 ? previous : output, output, pixels);
            if (level < channels.Count - 1)
            {
                pixels *= 4;
                flops += Conv(output, output, 3, pixels);
            }
            previous = output;
        }
        return flops + Conv(channels[0], config.OutChannels, 3, pixels);
    }

    private static double Conv(double inChannels, double outChannels, int kernel, double pixels) =>
        2 * inChannels * outChannels * kernel * kernel * pixels;

    private static double Resnet(int inChannels, int outChannels, double pixels) =>
        Conv(inChannels, outChannels, 3, pixels) + Conv(outChannels, outChannels, 3, pixels)
        + (inChannels == outChannels ? 0 : Conv(inChannels, outChannels, 1, pixels));
}
