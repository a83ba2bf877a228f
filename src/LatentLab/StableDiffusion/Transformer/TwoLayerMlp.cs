using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// <c>linear_2(silu(linear_1(x)))</c>: diffusers' <c>TimestepEmbedding</c> and <c>PixArtAlphaTextProjection</c>
/// have this shape and these key names.
/// </summary>
internal sealed class TwoLayerMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear_1;
    private readonly Linear linear_2;

    public TwoLayerMlp(long inFeatures, long outFeatures) : base(nameof(TwoLayerMlp))
    {
        linear_1 = nn.Linear(inFeatures, outFeatures);
        linear_2 = nn.Linear(outFeatures, outFeatures);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor hidden = linear_1.forward(input);
        using Tensor activated = nn.functional.silu(hidden);
        return linear_2.forward(activated);
    }
}
