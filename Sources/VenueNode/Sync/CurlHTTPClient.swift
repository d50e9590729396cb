import CCurl
import Foundation

/// A response received over HTTP.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: Data
    /// Response headers, names in lower case (the last value of a repeated header).
    public var headers: [String: String] = [:]
}

/// The request did not get an HTTP answer (refused, timed out, cut off).
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var code: Int
    public var message: String

    public var description: String { message }

    /// libcurl gave up waiting (CURLE_OPERATION_TIMEDOUT).
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }

    /// The request may have reached the server before this failure: the connection was up and broke while sending or
    /// waiting for the answer, or the time ran out (which may happen after the request was sent). Not so when the
    /// server could not be found or connected to.
    public var mayHaveBeenReceived: Bool {
        [CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT]
            .contains { Int($0.rawValue) == code }
    }
}

/// A small HTTP client on libcurl, with connect and total timeouts. Each request uses its own easy
/// handle and runs on a thread of its own, so a blocked network never blocks Swift's executors.
public struct CurlHTTPClient: Sendable {
    public var connectTimeout: Int
    public var totalTimeout: Int
    /// For https: the CA bundle to trust instead of the system's (CURLOPT_CAINFO).
    public var caFile: String?
    /// For https: the server's public key must be this one, `sha256//BASE64` of its SubjectPublicKeyInfo
    /// (CURLOPT_PINNEDPUBLICKEY), whatever CA signed its certificate.
    public var pinnedPublicKey: String?

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public init(connectTimeout: Int = 5, totalTimeout: Int = 30, caFile: String? = nil, pinnedPublicKey: String? = nil)
    {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.caFile = caFile
        self.pinnedPublicKey = pinnedPublicKey
    }

    public func send(method: String, url: String, headers: [String] = [], body: Data? = nil) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try self.perform(method: method, url: url, headers: headers, body: body) })
            }
        }
    }

    private final class ResponseBuffer {
        var data = Data()
        var headers: [String: String] = [:]
        let limit = 16 << 20
    }

    private func perform(method: String, url: String, headers: [String], body: Data?) throws -> HTTPReply {
        guard Self.globalInit, let handle = curl_easy_init() else {
            throw TransportError(code: -1, message: "libcurl could not be initialised")
        }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers + ["Expect:"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        let buffer = ResponseBuffer()
        let unmanaged = Unmanaged.passRetained(buffer)
        defer { unmanaged.release() }

        tally_curl_setopt_string(handle, CURLOPT_URL, url)
        tally_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        tally_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        tally_curl_setopt_long(handle, CURLOPT_TIMEOUT, totalTimeout)
        tally_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        // Only http and https, and never a redirect elsewhere (TLS is verified by default).
        tally_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        tally_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        if let caFile { tally_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let pinnedPublicKey { tally_curl_setopt_string(handle, CURLOPT_PINNEDPUBLICKEY, pinnedPublicKey) }
        tally_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        tally_curl_setopt_write_function(handle) { pointer, size, count, context in
            guard let pointer, let context else { return 0 }
            let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            guard buffer.data.count + length <= buffer.limit else { return 0 }
            buffer.data.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
            return length
        }
        tally_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        tally_curl_setopt_header_function(handle) { pointer, size, count, context in
            guard let pointer, let context else { return 0 }
            let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                buffer.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return length
        }
        let result: CURLcode = (body ?? Data()).withUnsafeBytes { bytes in
            if method == "POST" {
                tally_curl_setopt_long(handle, CURLOPT_POST, 1)
                tally_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
                tally_curl_setopt_pointer(
                    handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            } else if method != "GET" {
                tally_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            }
            return curl_easy_perform(handle)
        }
        guard result == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(result))
            throw TransportError(code: Int(result.rawValue), message: "\(method) \(url): \(reason)")
        }
        var status = 0
        tally_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPReply(status: status, body: buffer.data, headers: buffer.headers)
    }
}
