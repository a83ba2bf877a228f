using LatentLab.Diffusion;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentLab.Tests.Diffusion;

public class OptimizerFormulaTests
{
    [Fact]
    public void Inverse_time_decay_at_chosen_steps()
    {
        var schedule = new InverseTimeDecay(1e-3, 1000, 0.1);
        Assert.Equal(1e-3, schedule.At(0), 15);
        Assert.Equal(1e-3 / 1.0001, schedule.At(1), 15);
        Assert.Equal(1e-3 / 1.1, schedule.At(1000), 15);
        Assert.Equal(1e-3 / 1.5, schedule.At(5000), 15);
        Assert.Equal(1e-3 / 11, schedule.At(100_000), 15);
    }

    [Fact]
    public void AdamW_follows_the_keras_formulas_step_by_step()
    {
        TinyDiffusion.Prepare();
        using var weight = new Parameter(tensor(new[] { 1.0f, -2.0f }));
        using var optimizer = new KerasAdamW([weight], beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004);
        double[] w = [1.0, -2.0], m = [0, 0], v = [0, 0];
        double[][] gradients = [[0.5, -1.0], [0.1, 0.3], [-0.2, 0.0]];
        double[] rates = [1e-3, 5e-4, 2e-3];
        for (int t = 1; t <= 3; t++)
        {
            double[] g = gradients[t - 1];
            double lr = rates[t - 1];
            weight.grad = tensor(g.Select(x => (float)x).ToArray());
            optimizer.Step(lr);
            for (int i = 0; i < 2; i++)
            {
                w[i] -= w[i] * 0.004 * lr;
                m[i] += (g[i] - m[i]) * 0.1;
                v[i] += (g[i] * g[i] - v[i]) * 0.001;
                double alpha = lr * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
                w[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }
            float[] actual = weight.data<float>().ToArray();
            // float32 weights against a float64 loop: agree to a few units in the seventh digit.
            Assert.True(Math.Abs(w[0] - actual[0]) < 2e-6, $"step {t}: {w[0]} vs {actual[0]}");
            Assert.True(Math.Abs(w[1] - actual[1]) < 2e-6, $"step {t}: {w[1]} vs {actual[1]}");
        }
        Assert.Equal(3, optimizer.Iterations);
    }

    [Fact]
    public void Weight_average_follows_the_keras_formula_and_overwrites_on_schedule()
    {
        TinyDiffusion.Prepare();
        using var weight = new Parameter(zeros(1));
        using var average = new WeightAverage([weight], momentum: 0.5, overwriteFrequency: 3);
        double expected = 0;
        double[] updatedWeights = [4.0, 8.0, 2.0, 6.0];
        for (int iteration = 0; iteration < 4; iteration++)
        {
            using (no_grad()) weight.fill_(updatedWeights[iteration]);
            bool overwritten = average.Update(iteration);
            // First update: the average becomes the weight; then 0.5 * average + 0.5 * weight.
            expected = iteration == 0 ? updatedWeights[0] : 0.5 * expected + 0.5 * updatedWeights[iteration];
            Assert.Equal(expected, average.Averages[0].item<float>(), 6);
            Assert.Equal(iteration == 2, overwritten);
            double live = overwritten ? expected : updatedWeights[iteration];
            Assert.Equal(live, weight.item<float>(), 6);
        }
        // Averages after the four updates: 4, 6, 4 (overwrite), 5.
        Assert.Equal(5.0, average.Averages[0].item<float>(), 6);
        average.CopyIntoWeights();
        Assert.Equal(5.0, weight.item<float>(), 6);
    }
}
