namespace EdgePatchCore.Messaging;

/// <summary>What publishing one stored message did (<see cref="OutboxDrain"/>).</summary>
public enum DrainOutcome
{
    /// <summary>The broker has it: the message is deleted.</summary>
    Published,
    /// <summary>It can never be published (too large, refused too often): moved to rejected/ so the rest can flow.</summary>
    SetAside,
    /// <summary>Not now: the pass stops and the same message is first in the next one.</summary>
    Retry,
}
