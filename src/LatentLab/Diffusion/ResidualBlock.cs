using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Diffusion;

/// <summary>
/// The chapter's residual block: a 1x1 conv on the residual when the width changes; batch normalisation without
/// centre or scale; 3x3 conv with swish; 3x3 conv; add the residual.
/// </summary>
internal sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d? skip;
    private readonly BatchNorm2d norm;
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;

    public ResidualBlock(int inputWidth, int width, double batchNormEpsilon, double batchNormMomentum)
        : base(nameof(ResidualBlock))
    {
        if (inputWidth != width) skip = nn.Conv2d(inputWidth, width, 1);
        // Keras momentum m keeps m of the old moving average; torch's momentum is the weight of the new batch.
        norm = nn.BatchNorm2d(inputWidth, eps: batchNormEpsilon, momentum: 1 - batchNormMomentum, affine: false);
        conv1 = nn.Conv2d(inputWidth, width, 3, padding: 1);
        conv2 = nn.Conv2d(width, width, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor residual = skip is null ? input : skip.forward(input);
        Tensor x = nn.functional.silu(conv1.forward(norm.forward(input)));
        return conv2.forward(x).add_(residual).MoveToOuterDisposeScope();
    }
}
