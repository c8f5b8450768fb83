using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EdgePatchCore.Agent.Configuration;
using MQTTnet;

namespace EdgePatchCore.Agent.Publishing;

/// <summary>
/// TLS for the broker connection: the broker's certificate must chain to the configured CA file (or
/// the system roots) and match the host name; an optional client certificate authenticates the agent.
/// A refused certificate is logged with the reason, since "connection failed" alone helps nobody.
/// </summary>
public static class BrokerTls
{
    public static MqttClientTlsOptions Options(BrokerOptions broker, ILogger logger)
    {
        var builder = new MqttClientTlsOptionsBuilder().UseTls().WithTargetHost(broker.Host)
            .WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        if (!string.IsNullOrEmpty(broker.ClientCertificateFile))
        {
            using var pem = X509Certificate2.CreateFromPemFile(broker.ClientCertificateFile, broker.ClientKeyFile);
            // Re-imported so that the private key is usable by SslStream on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            builder.WithClientCertificates(new X509Certificate2Collection(certificate));
        }
        if (!string.IsNullOrEmpty(broker.CaFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(broker.CaFile);
            builder.WithCertificateValidationHandler(e => Validate(e.Certificate, e.SslPolicyErrors, roots, broker, logger));
        }
        return builder.Build();
    }

    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots, BrokerOptions broker, ILogger logger)
    {
        if (certificate is null)
        {
            logger.LogError("Broker {Host} sent no TLS certificate", broker.Host);
            return false;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            logger.LogError("Broker certificate does not match the host name {Host}", broker.Host);
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // plant networks have no CRL/OCSP access
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(leaf)) return true;
        logger.LogError("Broker certificate {Subject} is not trusted: {Reason} (CA file {CaFile})", leaf.Subject,
            string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim())), broker.CaFile);
        return false;
    }
}
