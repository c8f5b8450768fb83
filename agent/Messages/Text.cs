using System.Text;

namespace EdgePatchCore.Agent.Messages;

/// <summary>
/// Texts that come from outside (frame ids in user properties, file names, decoder messages) before they
/// go into a verdict, an event or a log line: control characters replaced, length capped, so one crafted
/// input cannot make a message the broker refuses or forge lines in a log.
/// </summary>
public static class Text
{
    /// <summary>Frame ids and error texts are capped at this many characters.</summary>
    public const int MaxFrameId = 256, MaxError = 512;

    /// <summary><paramref name="text"/> with control characters as '?' and at most <paramref name="max"/> characters (ending in "...").</summary>
    public static string Cap(string? text, int max)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        bool clean = text.Length <= max;
        foreach (char c in text) if (char.IsControl(c)) { clean = false; break; }
        if (clean) return text;
        var sb = new StringBuilder(Math.Min(text.Length, max));
        int limit = text.Length <= max ? text.Length : max - 3;
        for (int i = 0; i < limit; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && (i + 1 >= limit || !char.IsLowSurrogate(text[i + 1]))) break; // never split a pair
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        if (text.Length > max) sb.Append("...");
        return sb.ToString();
    }

    /// <summary>A frame id fit for a verdict: sanitised and capped; null or blank gives null.</summary>
    public static string? FrameId(string? id) => string.IsNullOrWhiteSpace(id) ? null : Cap(id.Trim(), MaxFrameId);

    /// <summary>A URL or command line with credentials masked: user:password@ in URLs and password=... style arguments.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        // scheme://user:secret@host -> scheme://user:***@host (and scheme://secret@host -> scheme://***@host)
        string masked = System.Text.RegularExpressions.Regex.Replace(text,
            @"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?<user>[^/\s:@]*)(?<pw>:[^/\s@]*)?@",
            m => m.Groups["scheme"].Value + (m.Groups["pw"].Success ? m.Groups["user"].Value + ":***" : "***") + "@");
        return System.Text.RegularExpressions.Regex.Replace(masked,
            @"(?i)(?<key>(pass(word|wd)?|pwd|token|secret|api[_-]?key)\s*[=:]\s*)(?<value>[^\s&""']+)",
            m => m.Groups["key"].Value + "***");
    }
}
