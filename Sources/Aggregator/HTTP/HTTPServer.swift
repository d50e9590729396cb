import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL

/// HTTP/1.1, inside TLS when certificate and key are given. Every connection first meets the caps of
/// `connections` (`ConnectionAdmissionHandler`, before TLS), then the deadlines of `settings.deadlines`
/// (`RequestDeadlineHandler`, after HTTP decoding).
func server(_ settings: AggregatorSettings, connections: ConnectionLimiter, logger: Logger) throws -> HTTPServerBuilder
{
    let deadlines = settings.deadlines
    // Hummingbird's own idle timeout is left off: one byte now and then would reset it.
    let http = HTTP1Channel.Configuration(
        additionalChannelHandlers: [RequestDeadlineHandler(deadlines: deadlines, limiter: connections, logger: logger)])
    guard let tls = settings.tls else {
        return HTTPServerBuilder { responder in
            GuardedChildChannel(base: HTTP1Channel(responder: responder, configuration: http), limiter: connections)
        }
    }
    let configuration: TLSConfiguration
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain)
        let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tlsConfiguration.minimumTLSVersion = .tlsv12
        // Fails here, before the server starts, when certificate and key do not go together.
        _ = try NIOSSLContext(configuration: tlsConfiguration)
        configuration = tlsConfiguration
    } catch {
        throw AggregatorError(
            "cannot use the TLS certificate \(tls.certificateChain) and key \(tls.privateKey): \(error)")
    }
    return HTTPServerBuilder { responder in
        GuardedChildChannel(
            base: try TLSChannel(
                HTTP1Channel(responder: responder, configuration: http), tlsConfiguration: configuration),
            limiter: connections)
    }
}
