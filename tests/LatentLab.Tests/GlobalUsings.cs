global using Xunit;

// Torch's random generator and default dtype are process-global: tests must not run in parallel.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
