namespace EdgePatchCore.Demo;

/// <summary>What the demo runs: the model, the images a camera would deliver, and how.</summary>
/// <param name="Artifact">The .pcb model.</param>
/// <param name="Frames">A folder of images, copied into the agent's watched folder one by one.</param>
/// <param name="Limit">At most this many images (the first in name order).</param>
/// <param name="Repeat">Cycle through the images this many times (soak runs).</param>
/// <param name="Rate">Frames per second to drop; 0: as fast as they are copied.</param>
/// <param name="Web">The live page's address on this machine, or "off".</param>
/// <param name="Hold">Keep the live page up after the last frame until Ctrl-C.</param>
public sealed record DemoOptions(string Artifact, string Frames, int Limit, int Repeat, double Rate, string Web, bool Hold);
