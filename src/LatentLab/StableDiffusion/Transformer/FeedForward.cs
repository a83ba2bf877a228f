using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Transformer;

/// <summary>
/// The blocks' MLP: Linear(D, 4D), tanh-approximated GELU, Linear(4D, D). Keys follow diffusers' <c>FeedForward</c>:
/// <c>net.0.proj.*</c> (the GELU module's projection), <c>net.2.*</c> (index 1 is a weightless dropout).
/// </summary>
internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public FeedForward(long dim, int multiplier = 4) : base(nameof(FeedForward))
    {
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(
            new GeluProjection(dim, dim * multiplier), nn.Identity(), nn.Linear(dim * multiplier, dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor hidden = net[0].forward(input);
        return net[2].forward(hidden);
    }

    /// <summary>diffusers' <c>GELU</c> module: a projection (key <c>proj</c>) followed by tanh-approximated GELU.</summary>
    private sealed class GeluProjection : nn.Module<Tensor, Tensor>
    {
        private readonly Linear proj;

        public GeluProjection(long inFeatures, long outFeatures) : base(nameof(GeluProjection))
        {
            proj = nn.Linear(inFeatures, outFeatures);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using Tensor projected = proj.forward(input);
            return nn.functional.gelu(projected, GELU.Approximate.tanh);
        }
    }
}
