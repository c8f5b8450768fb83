using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;

namespace EdgePatchCore.Messaging;

/// <summary>
/// How to reach a broker securely: TLS (broker certificate checked against a CA file or the system
/// roots, and against the host name), an optional client certificate, and username/password. Used by
/// the agent and by every trainer command that talks to a broker. The password is never logged.
/// </summary>
public sealed record BrokerSecurity
{
    public bool Tls { get; init; }
    public string? CaFile { get; init; }
    public string? ClientCertificateFile { get; init; }
    public string? ClientKeyFile { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? PasswordFile { get; init; }

    /// <summary>Adds credentials and TLS to <paramref name="builder"/>; <paramref name="onRefused"/> hears why a broker certificate was
    /// refused.</summary>
    public MqttClientOptionsBuilder Apply(MqttClientOptionsBuilder builder, string host, Action<string>? onRefused = null)
    {
        if (!string.IsNullOrEmpty(Username))
        {
            string password = !string.IsNullOrEmpty(PasswordFile)
                ? System.Text.Encoding.UTF8.GetString(FileSystem.RegularFile.Read(PasswordFile, 64 << 10)).TrimEnd('\r', '\n')
                : Password ?? "";
            builder.WithCredentials(Username, password);
        }
        if (!Tls) return builder;
        var tls = new MqttClientTlsOptionsBuilder().UseTls().WithTargetHost(host)
            .WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        if (!string.IsNullOrEmpty(ClientCertificateFile))
        {
            using var pem = X509Certificate2.CreateFromPemFile(ClientCertificateFile, ClientKeyFile);
            // Re-imported so that the private key is usable by SslStream on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            tls.WithClientCertificates(new X509Certificate2Collection(certificate));
        }
        if (!string.IsNullOrEmpty(CaFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(CaFile);
            tls.WithCertificateValidationHandler(e => Validate(e.Certificate, e.SslPolicyErrors, roots, host, onRefused));
        }
        return builder.WithTlsOptions(tls.Build());
    }

    private bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots, string host,
        Action<string>? onRefused)
    {
        if (certificate is null)
        {
            onRefused?.Invoke($"broker {host} sent no TLS certificate");
            return false;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            onRefused?.Invoke($"broker certificate does not match the host name {host}");
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // plant networks rarely reach CRL/OCSP servers
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(leaf)) return true;
        onRefused?.Invoke($"broker certificate {leaf.Subject} is not trusted: " +
                          string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim())) + $" (CA file {CaFile})");
        return false;
    }
}
