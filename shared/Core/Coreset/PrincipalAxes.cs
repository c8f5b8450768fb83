namespace EdgePatchCore.Coreset;

/// <summary>
/// The principal axes of a set of rows: the eigenvectors of their covariance, ordered by decreasing variance
/// (cyclic Jacobi; the matrices are at most a few hundred wide and this runs once per build).
/// </summary>
public static class PrincipalAxes
{
    /// <summary>A d x d orthonormal matrix whose column k is the k-th principal axis, row-major.</summary>
    public static double[] Of(ReadOnlySpan<float> rows, int count, int d)
    {
        var mean = new double[d];
        for (int r = 0; r < count; r++)
            for (int i = 0; i < d; i++) mean[i] += rows[r * d + i];
        for (int i = 0; i < d; i++) mean[i] /= Math.Max(1, count);
        var a = new double[d * d];
        var centred = new double[d];
        for (int r = 0; r < count; r++)
        {
            for (int i = 0; i < d; i++) centred[i] = rows[r * d + i] - mean[i];
            for (int i = 0; i < d; i++)
            {
                double ci = centred[i];
                for (int j = i; j < d; j++) a[i * d + j] += ci * centred[j];
            }
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++) a[i * d + j] = a[j * d + i];

        var v = new double[d * d];
        for (int i = 0; i < d; i++) v[i * d + i] = 1;
        double scale = 0;
        for (int i = 0; i < d; i++) scale += a[i * d + i];
        for (int sweep = 0; sweep < 30; sweep++)
        {
            double off = 0;
            for (int p = 0; p < d; p++)
                for (int q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
            if (off <= 1e-24 * scale * scale) break;
            for (int p = 0; p < d; p++)
                for (int q = p + 1; q < d; q++)
                {
                    double apq = a[p * d + q];
                    if (apq == 0) continue;
                    double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                    double t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < d; k++) // columns p, q
                    {
                        double akp = a[k * d + p], akq = a[k * d + q];
                        a[k * d + p] = c * akp - s * akq;
                        a[k * d + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < d; k++) // rows p, q
                    {
                        double apk = a[p * d + k], aqk = a[q * d + k];
                        a[p * d + k] = c * apk - s * aqk;
                        a[q * d + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < d; k++)
                    {
                        double vkp = v[k * d + p], vkq = v[k * d + q];
                        v[k * d + p] = c * vkp - s * vkq;
                        v[k * d + q] = s * vkp + c * vkq;
                    }
                }
        }
        // Decreasing variance; ties keep the original order so the result is deterministic.
        var order = Enumerable.Range(0, d).OrderByDescending(i => a[i * d + i]).ThenBy(i => i).ToArray();
        var axes = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int k = 0; k < d; k++) axes[i * d + k] = v[i * d + order[k]];
        return axes;
    }
}
