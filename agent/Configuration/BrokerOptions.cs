namespace EdgePatchCore.Agent.Configuration;

public sealed class BrokerOptions
{
    /// <summary>Empty disables MQTT (verdicts then stay in the outbox until a broker is configured).</summary>
    public string Host { get; set; } = "localhost";
    public int Port { get; set; } = 1883;
    /// <summary>Empty means edgepatchcore-{DeviceId}; must be stable so the broker keeps the session.</summary>
    public string ClientId { get; set; } = "";
    public string Username { get; set; } = "";
    /// <summary>A file holding the password (readable by the service user only).</summary>
    public string PasswordFile { get; set; } = "";
    /// <summary>The password itself, for EDGEPATCHCORE__Agent__Broker__Password from a secret store; never logged.</summary>
    public string Password { get; set; } = "";

    /// <summary>systemd's LoadCredential= name for the password: $CREDENTIALS_DIRECTORY/mqtt-password.</summary>
    public const string PasswordCredential = "mqtt-password";

    /// <summary>
    /// <see cref="PasswordFile"/>, or, when neither it nor <see cref="Password"/> is set, the systemd credential
    /// (LoadCredential=mqtt-password:FILE in the unit) when one was passed and is not empty.
    /// </summary>
    public string ResolvedPasswordFile
    {
        get
        {
            if (!string.IsNullOrEmpty(PasswordFile) || !string.IsNullOrEmpty(Password)) return PasswordFile;
            string? dir = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY");
            if (string.IsNullOrEmpty(dir)) return "";
            string credential = System.IO.Path.Combine(dir, PasswordCredential);
            return File.Exists(credential) && new FileInfo(credential).Length > 0 ? credential : "";
        }
    }
    /// <summary>Connect with TLS (the usual port is 8883).</summary>
    public bool Tls { get; set; }
    /// <summary>PEM file of the CA(s) that signed the broker's certificate; empty = the system's trusted roots.</summary>
    public string CaFile { get; set; } = "";
    /// <summary>Client certificate and key (PEM) for brokers that authenticate clients by certificate.</summary>
    public string ClientCertificateFile { get; set; } = "";
    public string ClientKeyFile { get; set; } = "";
    public int KeepAliveSeconds { get; set; } = 15;
    /// <summary>How long the broker keeps the session (and queued image messages) while the agent is away.</summary>
    public uint SessionExpirySeconds { get; set; } = 86_400;
    public int ReconnectMinMilliseconds { get; set; } = 250;
    public int ReconnectMaxMilliseconds { get; set; } = 30_000;
}
