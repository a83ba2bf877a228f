using LatentLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class DiffusionScheduleTests
{
    // sin and cos of acos(0.95) + t (acos(0.02) - acos(0.95)), worked out with Python's math module.
    [Theory]
    [InlineData(0.0, 0.31224989991992, 0.95)]
    [InlineData(0.25, 0.5858018358351911, 0.8104543226685387)]
    [InlineData(0.5, 0.8041105159409647, 0.5944798383066962)]
    [InlineData(1.0, 0.999799979995999, 0.02)]
    public void Rates_at_chosen_times_match_hand_values(double time, double noiseRate, double signalRate)
    {
        var schedule = new DiffusionSchedule();
        (double noise, double signal) = schedule.Rates(time);
        Assert.Equal(noiseRate, noise, 12);
        Assert.Equal(signalRate, signal, 12);
    }

    [Fact]
    public void Tensor_rates_square_sum_to_one_and_match_scalar_rates()
    {
        TinyDiffusion.Prepare();
        var schedule = new DiffusionSchedule();
        using Tensor times = linspace(0, 1, 101, dtype: float64);
        (Tensor noiseRates, Tensor signalRates) = schedule.Rates(times);
        using (noiseRates)
        using (signalRates)
        {
            using Tensor sums = noiseRates.square() + signalRates.square();
            Assert.True(sums.sub(1).abs().max().item<double>() < 1e-12);
            Assert.Equal(schedule.Rates(0.37).SignalRate, signalRates[37].item<double>(), 12);
            Assert.Equal(schedule.Rates(0.37).NoiseRate, noiseRates[37].item<double>(), 12);
        }
    }

    [Fact]
    public void Bad_signal_rates_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new DiffusionSchedule(0.5, 0.4));
        Assert.Throws<ArgumentException>(() => new DiffusionSchedule(0, 0.9));
    }
}
