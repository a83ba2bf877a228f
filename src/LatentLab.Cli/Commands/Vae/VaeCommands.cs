using System.CommandLine;

namespace LatentLab.Cli.Commands.Vae;

/// <summary>The <c>latentlab vae</c> command group: train a VAE and draw its latent space.</summary>
public static class VaeCommands
{
    /// <summary>Builds <c>vae</c> with its subcommands.</summary>
    public static Command Create()
    {
        var vae = new Command("vae",
            "Variational autoencoder on MNIST-style images (the reference chapter's model): train it, then draw " +
            "its latent space.\n\nExamples:\n" +
            "  latentlab vae train --epochs 5            # bundled Fashion-MNIST test split, into runs/vae\n" +
            "  latentlab vae grid                        # runs/vae/grid.png, the 30x30 latent grid\n" +
            "  latentlab vae scatter                     # runs/vae/scatter.png, test images by class");
        vae.Subcommands.Add(VaeTrainCommand.Create());
        vae.Subcommands.Add(VaeGridCommand.Create());
        vae.Subcommands.Add(VaeScatterCommand.Create());
        vae.Subcommands.Add(VaeSampleCommand.Create());
        vae.Subcommands.Add(VaeReconstructCommand.Create());
        vae.Subcommands.Add(VaeInterpolateCommand.Create());
        vae.Subcommands.Add(VaeEvalCommand.Create());
        return vae;
    }
}
