using System.CommandLine;
using LatentLab.Cli.Infrastructure;
using LatentLab.Diffusion;
using LatentLab.Runtime;
using TorchSharp;

namespace LatentLab.Cli.Commands.Diffusion;

/// <summary>Options every sampling command shares: which model, how many steps, seed, device, threads, --force.</summary>
internal sealed class DiffusionSamplingOptions
{
    public Option<string> Checkpoint { get; } = new("--checkpoint")
    {
        Description = "A diffusion run folder (holding config.json and model.safetensors) or its model.safetensors.",
        Required = true,
    };

    public Option<int> Steps { get; } = CommonOptions.AtLeast("--steps", 1, 20, "Diffusion steps from noise to image.");

    public Option<int?> Seed { get; } = CommonOptions.Seed();

    public Option<string> Device { get; } = CommonOptions.Device();

    public Option<int> Threads { get; } = CommonOptions.Threads();

    public Option<bool> Force { get; } = CommonOptions.Force();

    public void AddTo(Command command)
    {
        command.Options.Add(Checkpoint);
        command.Options.Add(Steps);
        command.Options.Add(Seed);
        command.Options.Add(Device);
        command.Options.Add(Threads);
        command.Options.Add(Force);
    }

    /// <summary>Loads the model on the chosen device (after setting threads).</summary>
    public (DiffusionModel Model, torch.Device Device) LoadModel(ParseResult parse)
    {
        TorchRuntime.EnsureLoaded();
        CommonOptions.ApplyThreads(parse.GetValue(Threads));
        torch.Device device = TorchRuntime.ParseDevice(parse.GetValue(Device)!);
        string path = parse.GetValue(Checkpoint)!;
        string runDirectory = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        if (!Directory.Exists(runDirectory))
            throw new UsageException($"--checkpoint {path}: no such run folder or model file.");
        return (DiffusionCheckpoint.LoadModel(runDirectory, device), device);
    }

    /// <summary>Refuses an existing output file unless --force.</summary>
    public void EnsureWritable(ParseResult parse, string path)
    {
        if (File.Exists(path) && !parse.GetValue(Force))
            throw new UsageException($"--out {path} already exists; add --force to replace it.");
    }
}
