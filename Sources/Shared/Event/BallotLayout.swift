/// Each session's ballot as positions, computed once from the event, so that ingest checks and counts the
/// usual ballot (a known mark for every department on it) without looking anything up in the event's lists
/// or building a counter per department.
public struct BallotLayout: Sendable {
    /// One session's ballot: its departments in event order.
    public struct Ballot: Sendable {
        public let departments: [String]
    }

    /// The event's marks, in event order: a ballot's marks are given by their index here.
    public let marks: [String]
    private let ballots: [String: Ballot]

    public init(event: EventDefinition) {
        marks = event.marks.map(\.id)
        var ballots: [String: Ballot] = [:]
        for session in event.sessions {
            ballots[session.id] = Ballot(departments: (event.ballotDepartments(session: session.id) ?? []).map(\.id))
        }
        self.ballots = ballots
    }

    /// The ballot of a session of the event (nil: no such session).
    public func ballot(session: String) -> Ballot? { ballots[session] }

    /// For the usual valid ballot (a mark for exactly the departments on its session's ballot, each a mark of
    /// the event), writes each department's mark index, by position on the ballot, into `indices` and returns
    /// true. False for anything else, which `RecordPayload.check(against:)` judges in full.
    public func usualMarks(of ballot: RecordPayload.Ballot, into indices: inout [UInt8]) -> Bool {
        guard ballot.status == .valid, marks.count <= Int(UInt8.max), let layout = ballots[ballot.session],
            ballot.marks.count == layout.departments.count
        else { return false }
        indices.removeAll(keepingCapacity: true)
        for department in layout.departments {
            guard let mark = ballot.marks[department], let index = marks.firstIndex(of: mark) else { return false }
            indices.append(UInt8(index))
        }
        return true
    }
}

extension RecordPayload {
    /// `check(against:)`, the usual ballot checked through the event's `layout`: returns true, with the ballot's
    /// mark indices by position in `marks`, for a usual valid ballot; false (having checked the record in full)
    /// for anything else. Throws exactly as `check(against:)` does.
    public func check(against event: EventDefinition, layout: BallotLayout, marks: inout [UInt8])
        throws(RecordRejection) -> Bool
    {
        if case .ballot(let ballot) = self, layout.usualMarks(of: ballot, into: &marks), Identifier.isValid(ballot.box),
            (try? ballot.checkKeying()) != nil, (try? ballot.checkPhone()) != nil
        {
            return true
        }
        try check(against: event)
        return false
    }
}
