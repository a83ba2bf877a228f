using System.CommandLine;

namespace LatentLab.Cli.Commands.StableDiffusion;

/// <summary>The Stable Diffusion 3 commands: <c>generate</c> and <c>steps</c>.</summary>
public static class StableDiffusionCommands
{
    /// <summary>The commands to add to the root command.</summary>
    public static IReadOnlyList<Command> Create() => [GenerateCommand.Create(), StepsCommand.Create()];
}
