using EdgePatchCore.Trainer;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C: stop cleanly (temporary files removed, no half-written artifact). Second: default.
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    cancel.Cancel();
};
return TrainerApp.Run(args, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected, cancel.Token);
