using LatentLab.StableDiffusion.Schedulers;
using TorchSharp;

namespace LatentLab.Tests.StableDiffusion.Schedulers;

public class FlowMatchEulerDiscreteSchedulerTests
{
    private static FlowMatchEulerDiscreteScheduler TinyScheduler() =>
        FlowMatchEulerDiscreteScheduler.FromFolder(Path.Combine(Sd3TestData.ModelFolder, "scheduler"));

    [Fact]
    public void Config_is_read_from_the_model_folder()
    {
        FlowMatchEulerDiscreteScheduler scheduler = TinyScheduler();
        Assert.Equal(3.0, scheduler.Config.Shift);
        Assert.Equal(1000, scheduler.Config.NumTrainTimesteps);
        Assert.False(scheduler.Config.UseDynamicShifting);
    }

    [Fact]
    public void Two_steps_shift_the_smallest_sigma_twice()
    {
        FlowMatchSchedule schedule = TinyScheduler().Schedule(2);
        Assert.Equal(1000f, schedule.Timesteps[0]);
        Assert.Equal(8.93, schedule.Timesteps[1], 0.005);
        Assert.Equal(0f, schedule.Sigmas[2]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(30)]
    public void Timesteps_and_sigmas_equal_the_reference_bit_for_bit(int numSteps)
    {
        FlowMatchSchedule schedule = TinyScheduler().Schedule(numSteps);
        using torch.Tensor expectedTimesteps = Sd3TestData.Golden("schedulers", $"flowmatch_sd3.n{numSteps}.timesteps");
        using torch.Tensor expectedSigmas = Sd3TestData.Golden("schedulers", $"flowmatch_sd3.n{numSteps}.sigmas");
        Assert.Equal(expectedTimesteps.data<float>().ToArray(), schedule.Timesteps.ToArray());
        Assert.Equal(expectedSigmas.data<float>().ToArray(), schedule.Sigmas.ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(30)]
    public void A_chain_of_steps_follows_the_reference(int numSteps)
    {
        FlowMatchSchedule schedule = TinyScheduler().Schedule(numSteps);
        using var scope = torch.NewDisposeScope();
        torch.Tensor sample = Sd3TestData.Golden("schedulers", $"flowmatch_sd3.n{numSteps}.sample0");
        for (int step = 0; step < numSteps; step++)
        {
            string prefix = $"flowmatch_sd3.n{numSteps}.step{step}";
            TensorAssert.Close(Sd3TestData.Golden("schedulers", prefix + ".scaled_input"), sample, atol: 1e-6);
            torch.Tensor modelOutput = Sd3TestData.Golden("schedulers", prefix + ".model_output");
            sample = FlowMatchEulerDiscreteScheduler.Step(modelOutput, sample, schedule, step);
            TensorAssert.Close(Sd3TestData.Golden("schedulers", prefix + ".prev_sample"), sample, atol: 1e-6);
        }
    }

    [Fact]
    public void One_step_goes_from_pure_noise_straight_to_sigma_zero()
    {
        FlowMatchSchedule schedule = TinyScheduler().Schedule(1);
        Assert.Equal([1000f], schedule.Timesteps.ToArray());
        Assert.Equal([1f, 0f], schedule.Sigmas.ToArray());
    }

    [Fact]
    public void Zero_steps_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TinyScheduler().Schedule(0));
    }

    [Fact]
    public void Unsupported_options_are_named()
    {
        var config = new FlowMatchEulerDiscreteSchedulerConfig(Shift: 3, UseKarrasSigmas: true);
        NotSupportedException error = Assert.Throws<NotSupportedException>(() => new FlowMatchEulerDiscreteScheduler(config));
        Assert.Contains("use_karras_sigmas", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dynamic_shifting_needs_mu_and_uses_it()
    {
        var scheduler = new FlowMatchEulerDiscreteScheduler(new FlowMatchEulerDiscreteSchedulerConfig(UseDynamicShifting: true));
        Assert.Throws<ArgumentException>(() => scheduler.Schedule(4));
        double mu = scheduler.CalculateShift(4096);
        Assert.Equal(1.15, mu, 1e-12);
        FlowMatchSchedule schedule = scheduler.Schedule(4, mu);
        // sigma = 0.5 (linear) maps to e^mu / (e^mu + 1) under the time shift with exponent 1.
        FlowMatchSchedule linear = new FlowMatchEulerDiscreteScheduler(new FlowMatchEulerDiscreteSchedulerConfig()).Schedule(4);
        double unshifted = linear.Sigmas[1];
        double expected = Math.Exp(mu) / (Math.Exp(mu) + (1 / unshifted - 1));
        Assert.Equal(expected, schedule.Sigmas[1], 1e-6);
    }
}
