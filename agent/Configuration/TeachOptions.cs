namespace EdgePatchCore.Agent.Configuration;

/// <summary>Teaching good parts (docs/TEACH.md): the recent frames the agent keeps so that operators can mark them good.</summary>
public sealed class TeachOptions
{
    /// <summary>Scored frames kept under {StateDirectory}/frames (0: none, and {prefix}/teach is refused).</summary>
    public int KeepFrames { get; set; } = 500;
    /// <summary>Defect, error and REVIEW frames kept apart from the others, so that a long run of good parts does not push them out (0: kept among
    /// KeepFrames).</summary>
    public int KeepRejects { get; set; }
    /// <summary>Most bytes those frames take; the oldest go first.</summary>
    public long KeepBytes { get; set; } = 1L << 30;
    /// <summary>Most frames the teach set holds until `trainer collect --clear` takes them.</summary>
    public int MaxTaught { get; set; } = 1000;
    /// <summary>Extend the served model on the device with every frame taught and serve the derived, unsigned model at once.</summary>
    public bool OnDevice { get; set; }
    /// <summary>With RequireSignature (trusted keys), serving those unsigned derived models must be allowed explicitly.</summary>
    public bool AllowUnsignedDerived { get; set; }
    /// <summary>Most rows a derived model may add to its signed parent's bank; a teach that would add more is not served (the signed model
    /// stays).</summary>
    public int MaxDerivedRows { get; set; } = 20_000;
    /// <summary>Most bytes of images the teach set holds (beside <see cref="MaxTaught"/>).</summary>
    public long MaxTaughtBytes { get; set; } = 1L << 30;
    /// <summary>A file holding the line's secret (at least 32 characters) that SCADA's teach messages are authenticated with (HMAC-SHA256).</summary>
    public string SecretFile { get; set; } = "";
    /// <summary>The secret's name: teach messages carry it as keyId, and taught frames record it as who taught them.</summary>
    public string SecretId { get; set; } = "scada";
    /// <summary>A teach message is taken within this many seconds of its issuedAt (either side), and its nonce remembered that long.</summary>
    public double MaxAgeSeconds { get; set; } = 300;

    /// <summary>What this device does with unsigned derived models, in one sentence (said at start-up and by check-config).</summary>
    public string DerivedModelsSentence(bool signatureRequired) => !OnDevice
        ? "unsigned derived models allowed: no (Agent:Teach:OnDevice is off)"
        : $"unsigned derived models allowed: yes: on-device teaching (Agent:Teach:OnDevice) extends the signed model with the taught frames and " +
            $"serves " +
          $"the result unsigned{(signatureRequired ? ", although this device requires signatures (Agent:Teach:AllowUnsignedDerived)" : "")}; " +
          $"at most {MaxDerivedRows} added rows; trainer collect --revert --sign KEY.pem serves the signed model again";

    /// <summary>systemd's LoadCredential= name for the secret: $CREDENTIALS_DIRECTORY/teach-secret.</summary>
    public const string SecretCredential = "teach-secret";
    public const int MinSecretLength = 32;

    /// <summary><see cref="SecretFile"/>, else the systemd credential when one was passed and is not empty; empty when neither.</summary>
    public string ResolvedSecretFile =>
        !string.IsNullOrEmpty(SecretFile) ? SecretFile
        : Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") is { Length: > 0 } dir && new FileInfo(Path.Combine(dir,
            SecretCredential)) is { Exists: true, Length: > 0 }
            ? Path.Combine(dir, SecretCredential) : "";

    /// <summary>The secret's bytes (the file's text, trimmed); empty when none is configured.</summary>
    public byte[] ReadSecret() =>
        ResolvedSecretFile is { Length: > 0 } file ? System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim()) : [];
}
