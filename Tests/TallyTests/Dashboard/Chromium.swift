import Foundation
import Testing
import VenueNode

/// Headless Chromium driven over the DevTools protocol (a minimal WebSocket client on a POSIX
/// socket), so a test can load a page once and watch its DOM change.
final class Chromium {
    static let executable = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    private let process: Process
    private let profile: URL
    private let socket: Int32
    private var nextID = 0

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(workDirectory: URL) async throws {
        guard let executable = Self.executable else { throw Failure(description: "chromium is not installed") }
        profile = workDirectory.appending(path: "chromium-profile")
        let log = workDirectory.appending(path: "chromium.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--window-size=1400,1000", "--remote-debugging-port=0",
            "--user-data-dir=\(profile.path)", "about:blank",
        ]
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
        var port: Int?
        for _ in 0..<300 where port == nil {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"ws://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                port = Int(text[range].dropFirst("ws://127.0.0.1:".count).dropLast())
            }
        }
        guard let port else {
            process.terminate()
            throw Failure(
                description: "chromium did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        let list = try await CurlHTTPClient().send(method: "GET", url: "http://127.0.0.1:\(port)/json/list")
        let targets = try JSONSerialization.jsonObject(with: list.body) as? [[String: Any]] ?? []
        guard let page = targets.first(where: { $0["type"] as? String == "page" }),
            let url = page["webSocketDebuggerUrl"] as? String
        else {
            throw Failure(description: "no page target in \(String(decoding: list.body, as: UTF8.self))")
        }
        guard let path = URL(string: url)?.path else { throw Failure(description: "bad DevTools URL \(url)") }
        socket = try Self.connect(port: port, path: path)
    }

    deinit {
        close(socket)
        process.terminate()
        process.waitUntilExit()
    }

    /// Sends a DevTools command and returns its `result`.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try writeFrame(message)
        while true {
            let reply = try readMessage()
            guard let object = try JSONSerialization.jsonObject(with: reply) as? [String: Any],
                object["id"] as? Int == id
            else { continue }
            if let error = object["error"] { throw Failure(description: "\(method): \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
    }

    /// Evaluates JavaScript in the page and returns its value.
    @discardableResult
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` until it is true or `timeout` passes; returns how long it took.
    func waitUntil(_ expression: String, timeout: Duration = .seconds(10)) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if try evaluate(expression) as? Bool == true { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    // MARK: Keys, as a person (or a USB barcode scanner) types them

    /// Keys that are not characters: their DOM `key`, `code` and Windows virtual key code.
    static let namedKeys: [String: (code: String, keyCode: Int, text: String?)] = [
        "Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, nil), "Backspace": ("Backspace", 8, nil),
        "Escape": ("Escape", 27, nil), "ArrowDown": ("ArrowDown", 40, nil), "ArrowUp": ("ArrowUp", 38, nil),
        "End": ("End", 35, nil),
    ]

    /// Presses and releases one key: a named key (`Enter`, `Tab`, `Backspace`, `Escape`) or one character, with
    /// `alt` or `control` held if asked (Alt+digit moves between the desk's screens; Ctrl+Enter saves a typed
    /// suggestion). Counted in `keystrokes`.
    func press(_ key: String, alt: Bool = false, control: Bool = false) throws {
        keystrokes += 1
        var down: [String: Any] = ["type": "keyDown", "key": key, "modifiers": (alt ? 1 : 0) | (control ? 2 : 0)]
        if let named = Self.namedKeys[key] {
            down["code"] = named.code
            down["windowsVirtualKeyCode"] = named.keyCode
            if let text = named.text {
                down["text"] = text
            } else {
                down["type"] = "rawKeyDown"
            }
        } else {
            let scalar = key.unicodeScalars.first!
            if scalar.properties.numericType != nil, key.count == 1, scalar.isASCII {
                down["code"] = "Digit\(key)"
                down["windowsVirtualKeyCode"] = Int(scalar.value)
            } else if scalar.isASCII, scalar.properties.isAlphabetic {
                down["code"] = "Key\(key.uppercased())"
                down["windowsVirtualKeyCode"] = Int(key.uppercased().unicodeScalars.first!.value)
            }
            if alt {
                down["type"] = "rawKeyDown"
            } else {
                down["text"] = key
            }
        }
        try send("Input.dispatchKeyEvent", down)
        var up = down
        up["type"] = "keyUp"
        up.removeValue(forKey: "text")
        try send("Input.dispatchKeyEvent", up)
    }

    /// Types `text` one key at a time (as a barcode scanner does), then Enter if asked.
    func type(_ text: String, enter: Bool = false) throws {
        for character in text { try press(String(character)) }
        if enter { try press("Enter") }
    }

    /// Keys pressed so far.
    private(set) var keystrokes = 0

    /// Lays the page out at `width`×`height` CSS pixels (a 1366×768 laptop, a tablet, a phone).
    func resize(width: Int, height: Int, mobile: Bool = false) throws {
        try send(
            "Emulation.setDeviceMetricsOverride",
            ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile])
    }

    /// A phone: `width`×`height` CSS pixels at twice the density, a touch screen, a phone's browser name.
    func emulatePhone(width: Int = 390, height: Int = 844) throws {
        try send(
            "Emulation.setDeviceMetricsOverride",
            ["width": width, "height": height, "deviceScaleFactor": 2, "mobile": true])
        try send("Emulation.setTouchEmulationEnabled", ["enabled": true, "maxTouchPoints": 5])
        try send(
            "Emulation.setUserAgentOverride",
            [
                "userAgent":
                    "Mozilla/5.0 (Linux; Android 12; Pixel 6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
            ])
    }

    /// Taps the element `selector` finds with a finger, as a person does: scrolled into view, then a touch at its
    /// centre (nothing happens if it is hidden or covered). Counted in `taps`.
    func tap(_ selector: String) throws {
        let literal = String(decoding: try JSONSerialization.data(withJSONObject: [selector]), as: UTF8.self)
        let rect =
            try evaluate(
                """
                (() => { const el = document.querySelector(\(literal)[0]); if (!el) return null;
                  el.scrollIntoView({ block: "center" }); const r = el.getBoundingClientRect();
                  return [r.left + r.width / 2, r.top + r.height / 2]; })()
                """) as? [Double]
        guard let rect, rect.count == 2 else { throw Failure(description: "nothing to tap at \(selector)") }
        taps += 1
        let point: [String: Any] = ["x": rect[0], "y": rect[1]]
        try send("Input.dispatchTouchEvent", ["type": "touchStart", "touchPoints": [point]])
        try send("Input.dispatchTouchEvent", ["type": "touchEnd", "touchPoints": [[String: Any]]()])
    }

    /// Taps so far.
    private(set) var taps = 0

    /// Clicks the element `selector` finds with the mouse, as a person does on a laptop: scrolled into view, then a
    /// press and release of the left button at its centre (nothing happens if it is hidden or covered).
    func click(_ selector: String) throws {
        let literal = String(decoding: try JSONSerialization.data(withJSONObject: [selector]), as: UTF8.self)
        let rect =
            try evaluate(
                """
                (() => { const el = document.querySelector(\(literal)[0]); if (!el || el.offsetParent === null) return null;
                  el.scrollIntoView({ block: "center" }); const r = el.getBoundingClientRect();
                  return [r.left + r.width / 2, r.top + r.height / 2]; })()
                """) as? [Double]
        guard let rect, rect.count == 2 else { throw Failure(description: "nothing to click at \(selector)") }
        for type in ["mousePressed", "mouseReleased"] {
            try send(
                "Input.dispatchMouseEvent",
                ["type": type, "x": rect[0], "y": rect[1], "button": "left", "clickCount": 1])
        }
    }

    /// A screenshot of the whole page, not only what the screen shows (a phone's long ballot).
    func fullPageScreenshot(to url: URL) throws {
        let metrics = try send("Page.getLayoutMetrics")
        let size = metrics["cssContentSize"] as? [String: Any] ?? metrics["contentSize"] as? [String: Any] ?? [:]
        let result = try send(
            "Page.captureScreenshot",
            [
                "format": "png", "captureBeyondViewport": true,
                "clip": [
                    "x": 0, "y": 0, "width": size["width"] as? Double ?? 390,
                    "height": size["height"] as? Double ?? 844,
                    "scale": 1,
                ],
            ])
        guard let data = (result["data"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw Failure(description: "no screenshot data")
        }
        try data.write(to: url)
    }

    func screenshot(to url: URL) throws {
        let result = try send("Page.captureScreenshot", ["format": "png"])
        guard let data = (result["data"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw Failure(description: "no screenshot data")
        }
        try data.write(to: url)
    }

    // MARK: WebSocket (RFC 6455), just enough for the DevTools protocol

    private static func connect(port: Int, path: String) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to DevTools on port \(port)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try write(fd, Data(request.utf8))
        var response = Data()
        while response.range(of: Data("\r\n\r\n".utf8)) == nil {
            response.append(try read(fd, count: 1))
        }
        guard String(decoding: response, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw Failure(description: "WebSocket upgrade refused: \(String(decoding: response, as: UTF8.self))")
        }
        return fd
    }

    private func writeFrame(_ payload: Data) throws {
        var frame = Data([0x81])  // FIN, text
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame.append(contentsOf: [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)])
        } else {
            frame.append(0x80 | 127)
            frame.append(contentsOf: (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) })
        }
        frame.append(contentsOf: mask)
        frame.append(contentsOf: payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        try Self.write(socket, frame)
    }

    private func readMessage() throws -> Data {
        var message = Data()
        while true {
            let header = try Self.read(socket, count: 2)
            let fin = header[0] & 0x80 != 0
            let opcode = header[0] & 0x0F
            var length = Int(header[1] & 0x7F)
            if length == 126 {
                let bytes = try Self.read(socket, count: 2)
                length = Int(bytes[0]) << 8 | Int(bytes[1])
            } else if length == 127 {
                length = try Self.read(socket, count: 8).reduce(0) { $0 << 8 | Int($1) }
            }
            // A DevTools message is at most a screenshot: anything larger means the stream was misread.
            guard length <= 64 << 20 else {
                throw Failure(
                    description: "a DevTools frame of \(length) bytes (header \(Array(header))): the stream was misread"
                )
            }
            let payload = length > 0 ? try Self.read(socket, count: length) : Data()
            if opcode == 0x8 { throw Failure(description: "DevTools closed the connection") }
            if opcode == 0x9 || opcode == 0xA { continue }
            message.append(payload)
            if fin { return message }
        }
    }

    private static func write(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure(description: "write to DevTools failed") }
                offset += sent
            }
        }
    }

    private static func read(_ fd: Int32, count: Int) throws -> Data {
        var data = Data(count: count)
        var offset = 0
        while offset < count {
            let received = data.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            guard received > 0 else { throw Failure(description: "read from DevTools failed") }
            offset += received
        }
        return data
    }
}
