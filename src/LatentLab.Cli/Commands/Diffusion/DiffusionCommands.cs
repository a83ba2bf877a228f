using System.CommandLine;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary>The <c>latentlab diffusion</c> command group.</summary>
public static class DiffusionCommands
{
    /// <summary>Builds <c>diffusion train | generate | reverse | interpolate | eval</c>.</summary>
    public static Command Create()
    {
        var command = new Command("diffusion",
            "A denoising diffusion model (the chapter's U-Net): train on pictures, generate new ones from noise.");
        command.Subcommands.Add(DiffusionTrainCommand.Create());
        command.Subcommands.Add(DiffusionGenerateCommand.Create());
        command.Subcommands.Add(DiffusionReverseCommand.Create());
        command.Subcommands.Add(DiffusionInterpolateCommand.Create());
        command.Subcommands.Add(DiffusionEvalCommand.Create());
        return command;
    }
}
