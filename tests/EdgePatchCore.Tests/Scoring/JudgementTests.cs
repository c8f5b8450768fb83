using EdgePatchCore.Scoring;

namespace EdgePatchCore.Tests.Scoring;

public class JudgementTests
{
    [Theory]
    [InlineData(1f, 2f, Judgement.Ok)]
    [InlineData(2f, 2f, Judgement.Defect)]
    [InlineData(3f, 2f, Judgement.Defect)]
    [InlineData(float.NaN, 2f, Judgement.Undecidable)]              // a NaN score compares false: "score > threshold" would call it ok
    [InlineData(float.PositiveInfinity, 2f, Judgement.Undecidable)]
    [InlineData(float.NegativeInfinity, 2f, Judgement.Undecidable)]
    [InlineData(1f, float.NaN, Judgement.Undecidable)]              // a NaN threshold would pass every part
    [InlineData(1f, 0f, Judgement.Undecidable)]
    [InlineData(1f, -1f, Judgement.Undecidable)]
    public void Non_finite_scores_and_thresholds_are_never_ok(float score, float threshold, Judgement expected) =>
        Assert.Equal(expected, Judge.Of(score, threshold));
}
