namespace EdgePatchCore.Agent.Triggers;

/// <summary>The reason codes of an ERROR answer (docs/agent.md lists them with what to do).</summary>
public static class ResultCode
{
    public const string CameraUnavailable = "camera-unavailable", CameraTimeout = "camera-timeout", ScoringTimeout = "scoring-timeout",
                        IncompleteFrame = "incomplete-frame", ModelNotLoaded = "model-not-loaded", ScoringFailed = "scoring-failed",
                        Busy = "busy", DuplicatePart = "duplicate-part", BadTrigger = "bad-trigger";
}
