using EdgePatchCore.Agent.Cameras;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Triggers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Tests.Triggers;

/// <summary>The handshake's ledger on its own: exactly one answer per trigger, whatever happens to its frame.</summary>
public sealed class TriggerBookTests
{
    private sealed class Answers : IAnswerSink
    {
        public List<(InspectionResult Result, bool Late)> All { get; } = [];
        public void Accept(InspectionResult result, bool late) { lock (All) All.Add((result, late)); }
    }

    /// <summary>A trigger target that records what it was asked to fire (or refuses, like a camera that is gone).</summary>
    private sealed class Recorder(string? notReady = null, bool refuse = false, string? line = null) : ITriggerTarget
    {
        public List<string> Fired { get; } = [];
        public string? NotReady => notReady;
        public string? RefusesMessages => line is null ? null : $"triggered by its {line} input";
        public void Fire(string partId, string? product)
        {
            if (refuse) throw new CameraException("firing TriggerSoftware: timeout");
            Fired.Add(partId);
        }
    }

    private static (TriggerBook Book, Answers Answers) Book(int deadlineMs = 50, int maxPending = 8, ITriggerTarget? target = null)
    {
        var options = Options.Create(new AgentOptions { Triggers = new TriggersOptions { DeadlineMilliseconds = deadlineMs, MaxPending = maxPending } });
        var answers = new Answers();
        var book = new TriggerBook(options, [answers], NullLogger<TriggerBook>.Instance);
        if (target is not null) book.Attach(target);
        return (book, answers);
    }

    private static ScoredFrame Scored(string partId, string result = Verdict.Ok, string? reject = null)
    {
        var frame = new Frame { Id = "f-" + partId, Source = "genicam", Bytes = [], PartId = partId, RejectReason = reject };
        var verdict = new Verdict
        {
            FrameId = frame.Id, Source = "genicam", PartId = partId, CapturedAt = DateTimeOffset.UtcNow, ScoredAt = DateTimeOffset.UtcNow,
            Result = result, Score = result == Verdict.Error ? null : 3f, Threshold = 5f, LatencyMs = new VerdictLatency(1, 2, 3),
            ErrorText = result == Verdict.Error ? "broken" : null,
        };
        return new ScoredFrame { Frame = frame, Verdict = verdict, VerdictJson = verdict.ToJson() };
    }

    [Fact]
    public void A_fired_part_is_answered_once_with_its_frames_verdict()
    {
        var target = new Recorder();
        var (book, answers) = Book(deadlineMs: 5000, target: target);
        book.Trigger("P-1", "gasket");
        Assert.Equal(["P-1"], target.Fired);
        Assert.Equal(1, book.Open);
        book.FrameArrived("P-1", lineTrigger: false);
        book.Complete(Scored("P-1"));
        book.ExpireDue();
        var (result, late) = Assert.Single(answers.All);
        Assert.Equal(("P-1", InspectionResult.Ok, false), (result.PartId, result.Result, late));
        Assert.Equal(0, book.Open);
    }

    [Fact]
    public void A_part_without_a_frame_is_answered_ERROR_at_its_deadline_and_its_frame_later_as_late()
    {
        var (book, answers) = Book(deadlineMs: 30, target: new Recorder());
        book.Trigger("P-2", null);
        Thread.Sleep(60);
        book.ExpireDue();
        book.ExpireDue(); // once only
        var (result, late) = Assert.Single(answers.All);
        Assert.Equal((InspectionResult.Error, ResultCode.CameraTimeout, false), (result.Result, result.Reason, late));
        Assert.InRange(result.TriggerToResultMs, 30, 1000);
        book.Complete(Scored("P-2", Verdict.Defect));
        Assert.Equal(2, answers.All.Count);
        Assert.Equal(("P-2", InspectionResult.Nok, true, true), (answers.All[1].Result.PartId, answers.All[1].Result.Result, answers.All[1].Late,
                                                                  answers.All[1].Result.Late));
    }

    [Fact]
    public void A_frame_that_came_but_was_not_scored_in_time_is_a_scoring_timeout()
    {
        var (book, answers) = Book(deadlineMs: 20, target: new Recorder());
        book.Trigger("P-3", null);
        book.FrameArrived("P-3", lineTrigger: false);
        Thread.Sleep(40);
        book.ExpireDue();
        Assert.Equal(ResultCode.ScoringTimeout, Assert.Single(answers.All).Result.Reason);
    }

    [Fact]
    public void Refusals_are_answered_at_once_and_never_fire()
    {
        var target = new Recorder();
        var (book, answers) = Book(deadlineMs: 5000, maxPending: 2, target: target);
        book.Trigger("A", null);
        book.Trigger("A", null);                              // still open
        book.Trigger("B", null);
        book.Trigger("C", null);                              // two are open already
        Assert.Equal(["A", "B"], target.Fired);
        Assert.Equal([ResultCode.DuplicatePart, ResultCode.Busy], answers.All.Select(a => a.Result.Reason));
        Assert.NotNull(book.NotReady);                        // busy: a PLC sees ready false

        var (noCamera, noAnswers) = Book();
        noCamera.Trigger("D", null);
        Assert.Equal(ResultCode.CameraUnavailable, Assert.Single(noAnswers.All).Result.Reason);
        var (gone, goneAnswers) = Book(target: new Recorder(notReady: "camera 10.0.3.21: control lost"));
        gone.Trigger("E", null);
        Assert.Equal("camera 10.0.3.21: control lost", Assert.Single(goneAnswers.All).Result.Detail);
        var (refusing, refusedAnswers) = Book(target: new Recorder(refuse: true));
        refusing.Trigger("F", null);
        Assert.Equal(ResultCode.CameraUnavailable, Assert.Single(refusedAnswers.All).Result.Reason);
        Assert.Equal(0, refusing.Open);
    }

    [Fact]
    public void A_hardware_line_frame_is_a_part_and_an_incomplete_one_is_answered_ERROR()
    {
        var target = new Recorder(line: "Line0");
        var (book, answers) = Book(deadlineMs: 5000, target: target);
        Assert.Null(book.NotReady); // the camera is up: the line may run
        book.Trigger("by-message", null); // the wire fires this camera, not messages
        Assert.Empty(target.Fired);
        Assert.Equal((ResultCode.BadTrigger, "triggered by its Line0 input"), (answers.All[0].Result.Reason, answers.All[0].Result.Detail));
        answers.All.Clear();
        book.FrameArrived("line-1", lineTrigger: true);
        book.FrameArrived("line-2", lineTrigger: true);
        Assert.Equal(2, book.Open);
        book.Complete(Scored("line-1"));
        book.Complete(Scored("line-2", Verdict.Error, reject: "incomplete frame (missing packets)"));
        Assert.Equal([(InspectionResult.Ok, (string?)null), (InspectionResult.Error, ResultCode.IncompleteFrame)],
                     answers.All.Select(a => (a.Result.Result, a.Result.Reason)));
        Assert.All(answers.All, a => Assert.False(a.Late));
    }
}
