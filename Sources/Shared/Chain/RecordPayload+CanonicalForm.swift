#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Writes a payload's canonical JSON as UTF-8: keys sorted by their UTF-8 bytes (each kind's keys are
/// written in that order; department ids of `marks` are sorted), no white space, strings escaped as
/// Foundation's `JSONEncoder` escapes them with `.withoutEscapingSlashes`. `CanonicalJSONTests` checks it
/// writes what `foundationCanonicalJSON` writes.
struct CanonicalWriter {
    var bytes: [UInt8] = []
    /// Whether the next key opens its object (no comma before it).
    private var first = true

    init() { bytes.reserveCapacity(256) }

    mutating func write(_ payload: RecordPayload, version: Int) {
        let v: Int? = version > 1 ? version : nil
        switch payload {
        case .checkin(let value):
            open()
            field("at", value.at)
            field("category", value.category)
            field("clerk", value.clerk)
            field("kind", "checkin")
            field("person", value.person)
            field("rep", value.rep)
            field("session", value.session)
            field("v", v)
            if let walkin = value.walkin {
                key("walkin")
                raw(walkin ? "true" : "false")
            }
            close()
        case .boxOpened(let value):
            open()
            field("at", value.at)
            field("box", value.box)
            field("clerk", value.clerk)
            field("kind", "box_opened")
            field("session", value.session)
            field("v", v)
            close()
        case .boxClosed(let value):
            open()
            field("at", value.at)
            field("box", value.box)
            field("clerk", value.clerk)
            if let forms = value.forms {
                key("forms")
                bytes.append(UInt8(ascii: "{"))
                for (index, form) in forms.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated()
                {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    string(form)
                    bytes.append(UInt8(ascii: ":"))
                    bytes.append(contentsOf: String(forms[form]!).utf8)
                }
                bytes.append(UInt8(ascii: "}"))
            }
            field("issued", value.issued)
            field("kind", "box_closed")
            field("returned", value.returned)
            field("session", value.session)
            field("v", v)
            close()
        case .ballot(let value):
            open()
            field("box", value.box)
            field("keyers", value.keyers)
            field("kind", "ballot")
            field("lead", value.lead)
            field("marks", value.marks)
            field("nonce", value.nonce)
            field("paper", value.paper)
            field("session", value.session)
            field("status", value.status.rawValue)
            field("v", v)
            close()
        case .correction(let value):
            open()
            field("at", value.at)
            field("kind", "correction")
            field("operator", value.operator)
            field("reason", value.reason)
            if let replacement = value.replacement {
                key("replacement")
                write(replacement, version: 1)
            }
            field("target", Int(value.target))
            field("v", v)
            close()
        case .imported(let value):
            open()
            field("at", value.at)
            field("clerk", value.clerk)
            field("file", value.file)
            field("form", value.form)
            key("groups")
            bytes.append(UInt8(ascii: "["))
            for (index, group) in value.groups.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                open()
                field("box", group.box)
                field("digest", group.digest)
                field("rows", group.rows)
                field("session", group.session)
                close()
            }
            bytes.append(UInt8(ascii: "]"))
            field("kind", "import")
            field("v", v)
            close()
        case .form(let value):
            open()
            field("answers", value.answers)
            field("box", value.box)
            field("clerk", value.clerk)
            if let consent = value.consent {
                key("consent")
                raw(consent ? "true" : "false")
            }
            field("contact", value.contact)
            field("departments", value.departments)
            field("form", value.form.rawValue)
            field("kind", "form")
            field("paper", value.paper)
            field("session", value.session)
            field("text", value.text)
            field("topic", value.topic)
            field("v", v)
            close()
        }
    }

    private mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    private mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    private mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// An array of strings, in its order.
    private mutating func field(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object of strings, its keys sorted by their UTF-8 bytes.
    private mutating func field(_ name: StaticString, _ values: [String: String]?) {
        guard let values else { return }
        key(name)
        bytes.append(UInt8(ascii: "{"))
        for (index, entry) in values.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(entry)
            bytes.append(UInt8(ascii: ":"))
            string(values[entry]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func field(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Escapes as Foundation's JSONEncoder does with `.withoutEscapingSlashes`.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Nothing to escape, the usual case: the bytes as they are.
        let plain =
            text.utf8.withContiguousStorageIfAvailable { utf8 in
                guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
                else { return false }
                bytes.append(contentsOf: utf8)
                return true
            } ?? false
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension RecordPayload {
    /// `decodeStrict`'s fast path: nil unless the JSON is read by `JSONParser` into a payload whose canonical
    /// form (as this release writes it) is byte for byte the JSON.
    static func fastStrict(json: String) -> (payload: RecordPayload, version: Int)? {
        guard case .object(let members)? = JSONParser.parse(json, rejectDuplicateKeys: false),
            let (payload, version) = payload(members: members, top: true),
            (1...currentVersion).contains(version), payload.minimumVersion <= version
        else { return nil }
        var writer = CanonicalWriter()
        writer.write(payload, version: version)
        let same =
            json.utf8.withContiguousStorageIfAvailable { text in
                writer.bytes.withUnsafeBufferPointer { written in
                    text.count == written.count
                        && (text.isEmpty || memcmp(text.baseAddress!, written.baseAddress!, text.count) == 0)
                }
            } ?? json.utf8.elementsEqual(writer.bytes)
        guard same else { return nil }
        return (payload, version)
    }

    /// The payload an object's members describe, or nil if a member is unknown or of the wrong type, or a
    /// required one is missing (a duplicate, a member of another kind, or members out of order are caught by
    /// comparing with the canonical form).
    private static func payload(members: [JSONMember], top: Bool) -> (RecordPayload, Int)? {
        var kind: Kind?
        var version = 1
        var session: String?
        var rep: String?
        var category: String?
        var at: String?
        var person: String?
        var box: String?
        var status: String?
        var reason: String?
        var who: String?
        var file: String?
        var form: String?
        var issued: Int64?
        var returned: Int64?
        var target: Int64?
        var walkin: Bool?
        var clerk: String?
        var lead: String?
        var nonce: String?
        var paper: Int64?
        var keyers: [String]?
        var marks: [String: String]?
        var replacement: RecordPayload?
        var groups: [Imported.Group]?
        for member in members {
            switch (member.key, member.value) {
            case ("kind", .string(let text)):
                guard let known = Kind(rawValue: text) else { return nil }
                kind = known
            case ("v", .int(let number)) where top:
                guard let number = Int(exactly: number) else { return nil }
                version = number
            case ("session", .string(let text)): session = text
            case ("rep", .string(let text)): rep = text
            case ("category", .string(let text)): category = text
            case ("at", .string(let text)): at = text
            case ("person", .string(let text)): person = text
            case ("box", .string(let text)): box = text
            case ("status", .string(let text)): status = text
            case ("reason", .string(let text)): reason = text
            case ("operator", .string(let text)): who = text
            case ("file", .string(let text)): file = text
            case ("form", .string(let text)): form = text
            case ("issued", .int(let number)): issued = number
            case ("returned", .int(let number)): returned = number
            case ("target", .int(let number)): target = number
            case ("walkin", .bool(let flag)): walkin = flag
            case ("clerk", .string(let text)): clerk = text
            case ("lead", .string(let text)): lead = text
            case ("nonce", .string(let text)): nonce = text
            case ("paper", .int(let number)): paper = number
            case ("keyers", .array(let items)):
                var result: [String] = []
                for item in items {
                    guard case .string(let text) = item else { return nil }
                    result.append(text)
                }
                keyers = result
            case ("marks", .object(let entries)):
                var result: [String: String] = [:]
                result.reserveCapacity(entries.count)
                for entry in entries {
                    guard case .string(let mark) = entry.value else { return nil }
                    result[entry.key] = mark
                }
                marks = result
            case ("replacement", .object(let nested)):
                guard let (inner, _) = payload(members: nested, top: false) else { return nil }
                replacement = inner
            case ("groups", .array(let items)):
                var result: [Imported.Group] = []
                for item in items {
                    guard case .object(let fields) = item else { return nil }
                    var session: String?
                    var box: String?
                    var digest: String?
                    var rows: Int?
                    for field in fields {
                        switch (field.key, field.value) {
                        case ("session", .string(let text)): session = text
                        case ("box", .string(let text)): box = text
                        case ("digest", .string(let text)): digest = text
                        case ("rows", .int(let number)): rows = Int(exactly: number)
                        default: return nil
                        }
                    }
                    guard let session, let box, let digest, let rows else { return nil }
                    result.append(.init(session: session, box: box, rows: rows, digest: digest))
                }
                groups = result
            default:
                return nil
            }
        }
        let payload: RecordPayload
        switch kind {
        case nil: return nil
        case .checkin:
            guard let session, let rep, let category else { return nil }
            payload = .checkin(
                .init(
                    session: session, rep: rep, category: category, at: at, person: person, walkin: walkin,
                    clerk: clerk))
        case .boxOpened:
            guard let session, let box else { return nil }
            payload = .boxOpened(.init(session: session, box: box, at: at, clerk: clerk))
        case .boxClosed:
            guard let session, let box, let issued = issued.flatMap({ Int(exactly: $0) }),
                let returned = returned.flatMap({ Int(exactly: $0) })
            else { return nil }
            payload = .boxClosed(
                .init(session: session, box: box, issued: issued, returned: returned, at: at, clerk: clerk))
        case .ballot:
            guard let session, let box, let status = status.flatMap(BallotStatus.init(rawValue:)), let marks else {
                return nil
            }
            let number: Int?
            if let paper {
                guard let exact = Int(exactly: paper) else { return nil }
                number = exact
            } else {
                number = nil
            }
            payload = .ballot(
                .init(
                    session: session, box: box, status: status, marks: marks, paper: number, keyers: keyers,
                    lead: lead, nonce: nonce))
        case .correction:
            guard let target, let reason, let who else { return nil }
            payload = .correction(
                .init(target: target, reason: reason, operator: who, replacement: replacement, at: at))
        case .imported:
            guard let file, let form, let groups else { return nil }
            payload = .imported(.init(file: file, form: form, groups: groups, at: at, clerk: clerk))
        case .form:
            // Forms (version 5) are few beside ballots and check-ins: read by `JSONDecoder`'s path.
            return nil
        }
        return (payload, version)
    }
}
