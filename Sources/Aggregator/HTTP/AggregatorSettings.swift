import Foundation

/// What `buildApplication` needs.
public struct AggregatorSettings: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Requests per client address (nil: no limit).
    public var rateLimit: RateLimit?
    /// Serve HTTPS with this certificate chain and private key (PEM files); nil: plain HTTP.
    public var tls: TLSFiles?
    /// Connections held open per client and in all.
    public var connectionLimits: ConnectionLimits
    /// Deadlines for a request's head and body, and for a kept-alive connection between requests.
    public var deadlines: ConnectionDeadlines
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the rate limit).
    public var trustedProxies: TrustedProxies

    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20,
        rateLimit: RateLimit? = .default, tls: TLSFiles? = nil,
        connectionLimits: ConnectionLimits = .default, deadlines: ConnectionDeadlines = .default,
        trustedProxies: TrustedProxies = .none
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
        self.tls = tls
        self.connectionLimits = connectionLimits
        self.deadlines = deadlines
        self.trustedProxies = trustedProxies
    }
}
