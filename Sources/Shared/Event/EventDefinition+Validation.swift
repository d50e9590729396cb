import Foundation

extension EventDefinition {
    /// The format version this build reads.
    public static let supportedFormat = 1

    /// Checks every section and reference; returns all issues found (errors and warnings), in file order.
    public func validate() -> [EventIssue] {
        var issues: [EventIssue] = []
        func error(_ code: EventIssue.Code, _ location: String, _ message: String) {
            issues.append(EventIssue(severity: .error, code: code, location: location, message: message))
        }

        if format != Self.supportedFormat {
            error(
                .unsupportedFormat, "format",
                "format \(format) is not supported; this build reads format \(Self.supportedFormat)")
        }
        if !Identifier.isValid(id) {
            error(.invalidID, "id", "event id \"\(id)\" must match \(Identifier.pattern)")
        }
        for (section, count) in [
            ("marks", marks.count), ("sessions", sessions.count), ("venues", venues.count),
            ("departments", departments.count),
        ] where count == 0 {
            error(.missingSection, section, "the event needs at least one entry in \"\(section)\"")
        }

        _ = checkIDs(marks.map(\.id), section: "marks", into: &issues)
        let groupIDs = checkIDs(groups.map(\.id), section: "groups", into: &issues)
        _ = checkIDs(departments.map(\.id), section: "departments", into: &issues)
        let sessionIDs = checkIDs(sessions.map(\.id), section: "sessions", into: &issues)
        let venueIDs = checkIDs(venues.map(\.id), section: "venues", into: &issues)
        let categoryIDs = checkIDs(categories.map(\.id), section: "categories", into: &issues)

        for (index, department) in departments.enumerated() {
            if let group = department.group, !groupIDs.contains(group) {
                error(
                    .unknownReference, "departments[\(index)].group",
                    "department \"\(department.id)\" names group \"\(group)\", which is not in \"groups\"")
            }
        }
        for (index, session) in sessions.enumerated() {
            var unknownGroup = false
            if case .some(let ids) = session.ballot {
                for id in ids where !groupIDs.contains(id) {
                    unknownGroup = true
                    error(
                        .unknownReference, "sessions[\(index)].ballot",
                        "session \"\(session.id)\" names group \"\(id)\", which is not in \"groups\"")
                }
            }
            if !unknownGroup, ballotDepartments(session: session.id)?.isEmpty ?? true {
                error(
                    .emptyBallot, "sessions[\(index)].ballot",
                    "the ballot of session \"\(session.id)\" lists no department")
            }
            for (field, value) in [("start", session.start), ("end", session.end)] {
                if let value, !Session.isTime(value) {
                    error(
                        .invalidTime, "sessions[\(index)].\(field)",
                        "session \"\(session.id)\" \(field)s at \"\(value)\": give a time like 09:00 or 14:30 (24-hour)"
                    )
                }
            }
            if let start = session.start, let end = session.end, Session.isTime(start), Session.isTime(end),
                end <= start
            {
                error(
                    .invalidTime, "sessions[\(index)].end",
                    "session \"\(session.id)\" ends at \(end), not after it starts (\(start))")
            }
        }

        _ = checkIDs((boxes ?? []).map(\.id), section: "boxes", into: &issues)
        for (index, box) in (boxes ?? []).enumerated() {
            if let category = box.category, !categoryIDs.contains(category) {
                error(
                    .unknownReference, "boxes[\(index)].category",
                    "box \"\(box.id)\" names category \"\(category)\", which is not in \"categories\"")
            }
        }

        let weighted = venues.filter { $0.weight != nil }
        if !weighted.isEmpty && weighted.count != venues.count {
            error(
                .missingSection, "venues",
                "\(weighted.count) of \(venues.count) venues have a weight: give every venue a "
                    + "weight, or none")
        }
        for (index, venue) in venues.enumerated() {
            if let weight = venue.weight, !(weight.isFinite && weight > 0) {
                error(.negativeCount, "venues[\(index)].weight", "a venue weight must be above 0 (found \(weight))")
            }
        }

        var quotaOwner: [String: Int] = [:]  // "venue/session" → index of the quota that sets it
        for (index, quota) in quotas.enumerated() {
            let location = "quotas[\(index)]"
            if !venueIDs.contains(quota.venue) {
                error(
                    .unknownReference, "\(location).venue",
                    "quota names venue \"\(quota.venue)\", which is not in \"venues\"")
            }
            let covered: [String]
            switch quota.sessions {
            case .all:
                covered = sessions.map(\.id)
            case .some(let ids):
                for id in ids where !sessionIDs.contains(id) {
                    error(
                        .unknownReference, "\(location).sessions",
                        "quota names session \"\(id)\", which is not in \"sessions\"")
                }
                covered = ids
            }
            var repeated: [(session: String, owner: Int)] = []
            for session in covered {
                let key = "\(quota.venue)/\(session)"
                if let previous = quotaOwner[key] {
                    repeated.append((session, previous))
                } else {
                    quotaOwner[key] = index
                }
            }
            if !repeated.isEmpty {
                let owners = Set(repeated.map(\.owner)).sorted().map { "quotas[\($0)]" }.joined(separator: ", ")
                error(
                    .duplicateQuota, location,
                    "venue \"\(quota.venue)\" session(s) "
                        + repeated.map(\.session).joined(separator: ", ") + " already have a quota in \(owners)")
            }
            for (category, count) in quota.counts.sorted(by: { $0.key < $1.key }) {
                if !categoryIDs.contains(category) {
                    error(
                        .unknownReference, "\(location).counts.\(category)",
                        "quota names category \"\(category)\", which is not in \"categories\"")
                }
                if count < 0 {
                    error(.negativeCount, "\(location).counts.\(category)", "a quota cannot be negative (\(count))")
                }
            }
            if let stated = quota.statedTotal {
                let sum = quota.counts.values.reduce(0, +)
                if sum != stated {
                    issues.append(
                        EventIssue(
                            severity: .warning, code: .quotaTotalMismatch, location: location,
                            message:
                                "venue \"\(quota.venue)\": the categories add up to \(sum) but the stated total is \(stated)"
                                + (quota.source.map { " (source: \($0))" } ?? "")))
                }
            }
        }
        if let percent = reserves?.percent, !(percent.isFinite && (0...100).contains(percent)) {
            error(.negativeCount, "reserves.percent", "a reserve percentage is between 0 and 100 (found \(percent))")
        }
        for (index, quota) in quotas.enumerated() {
            for (category, count) in (quota.reserves ?? [:]).sorted(by: { $0.key < $1.key }) {
                if !categoryIDs.contains(category) {
                    error(
                        .unknownReference, "quotas[\(index)].reserves.\(category)",
                        "reserves name category \"\(category)\", which is not in \"categories\"")
                }
                if count < 0 {
                    error(
                        .negativeCount, "quotas[\(index)].reserves.\(category)",
                        "reserves cannot be negative (\(count))")
                }
            }
        }

        _ = checkIDs((jointQuotas ?? []).map(\.id), section: "joint_quotas", into: &issues)
        var jointOwner: [String: Int] = [:]  // "venue/session/category" → index of the joint quota that covers it
        for (index, joint) in (jointQuotas ?? []).enumerated() {
            let location = "joint_quotas[\(index)]"
            if Set(joint.venues).count < 2 {
                error(
                    .missingSection, "\(location).venues",
                    "joint quota \"\(joint.id)\" lists \(Set(joint.venues).count) venue(s): a joint quota is for two or "
                        + "more venues (one venue's quota goes in \"quotas\")")
            }
            for venue in joint.venues where !venueIDs.contains(venue) {
                error(
                    .unknownReference, "\(location).venues",
                    "joint quota \"\(joint.id)\" names venue \"\(venue)\", which is not in \"venues\"")
            }
            let covered: [String]
            switch joint.sessions {
            case .all: covered = sessions.map(\.id)
            case .some(let ids):
                for id in ids where !sessionIDs.contains(id) {
                    error(
                        .unknownReference, "\(location).sessions",
                        "joint quota \"\(joint.id)\" names session \"\(id)\", which is not in \"sessions\"")
                }
                covered = ids
            }
            if joint.counts.isEmpty {
                error(.missingSection, "\(location).counts", "joint quota \"\(joint.id)\" gives no count")
            }
            for (field, values) in [("counts", joint.counts), ("reserves", joint.reserves ?? [:])] {
                for (category, count) in values.sorted(by: { $0.key < $1.key }) {
                    if !categoryIDs.contains(category) {
                        error(
                            .unknownReference, "\(location).\(field).\(category)",
                            "joint quota \"\(joint.id)\" names category \"\(category)\", which is not in \"categories\""
                        )
                    }
                    if count < 0 {
                        error(
                            .negativeCount, "\(location).\(field).\(category)", "a count cannot be negative (\(count))")
                    }
                }
            }
            var repeated: Set<String> = []
            for venue in Set(joint.venues).sorted() {
                for session in covered {
                    for category in joint.counts.keys.sorted() {
                        let key = "\(venue)/\(session)/\(category)"
                        if let previous = jointOwner[key], previous != index {
                            repeated.insert("joint_quotas[\(previous)]")
                        } else {
                            jointOwner[key] = index
                        }
                    }
                }
            }
            if !repeated.isEmpty {
                error(
                    .duplicateQuota, location,
                    "joint quota \"\(joint.id)\" covers a venue, session and category that "
                        + repeated.sorted().joined(separator: ", ") + " already covers")
            }
        }
        validateForms(into: &issues)
        return issues
    }

    /// Reports ids that are malformed or repeated within a section; returns the set of ids.
    func checkIDs(_ ids: [String], section: String, into issues: inout [EventIssue]) -> Set<String> {
        var firstIndex: [String: Int] = [:]
        for (index, id) in ids.enumerated() {
            if !Identifier.isValid(id) {
                issues.append(
                    EventIssue(
                        severity: .error, code: .invalidID, location: "\(section)[\(index)].id",
                        message: "id \"\(id)\" must match \(Identifier.pattern)"))
            }
            if let first = firstIndex[id] {
                issues.append(
                    EventIssue(
                        severity: .error, code: .duplicateID, location: "\(section)[\(index)].id",
                        message: "id \"\(id)\" is already used by \(section)[\(first)]"))
            } else {
                firstIndex[id] = index
            }
        }
        return Set(ids)
    }
}

/// The ids used for events, marks, departments, sessions, venues, categories, boxes and representatives.
public enum Identifier {
    public static let pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

    public static func isValid(_ value: String) -> Bool {
        // ASCII only, so bytes are characters.
        let bytes = value.utf8
        guard let first = bytes.first, bytes.count <= 64 else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
        guard alphanumeric(first) else { return false }
        return bytes.allSatisfy {
            alphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }
}
