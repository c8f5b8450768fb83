using EdgePatchCore.KernelCheck;
using EdgePatchCore.Scoring;

// Checks the probe kernels this CPU runs, then times them; exit code 1 if a check fails.
Console.WriteLine($"kernels: {string.Join(", ", ProbeKernelCheck.Kernels())}; the default: {ProbeDots.Fastest()}");
var failures = ProbeKernelCheck.Cases.SelectMany(c => ProbeKernelCheck.Failures(c.Rows, c.Dimensions)).ToList();
foreach (var failure in failures) Console.WriteLine($"FAILED: {failure}");
Console.WriteLine(failures.Count == 0 ? "all checks passed" : $"{failures.Count} checks failed");
foreach (var line in ProbeKernelTiming.Run()) Console.WriteLine(line);
return failures.Count == 0 ? 0 : 1;
