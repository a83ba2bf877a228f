using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.StableDiffusion.Autoencoder;

/// <summary>Group norm with affine parameters (keys <c>weight</c>, <c>bias</c>) computed in float32.</summary>
internal sealed class GroupNorm32 : nn.Module<Tensor, Tensor>
{
    private const double Epsilon = 1e-6;
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly int _groups;

    public GroupNorm32(int groups, int channels) : base(nameof(GroupNorm32))
    {
        _groups = groups;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Float32Norms.GroupNorm(input, _groups, weight, bias, Epsilon);
}
