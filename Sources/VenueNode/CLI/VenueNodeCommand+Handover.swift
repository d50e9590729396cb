import ArgumentParser
import Foundation
import Shared

extension VenueNodeCommand {
    struct Handover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand a retired node's unsent records over to the venue's current node.",
            discussion: """
                Run on the retired (stale or revoked) node's data directory. It verifies the whole chain, then writes,
                for the records after the aggregator's last acknowledgement that are still in effect, the files and
                commands that record them again on the current node: box-open and box-close commands, check-ins and
                ballots as import CSVs, and corrections of earlier records. Run the script there:
                  venue-node handover --data-dir /var/lib/venue-node-old --out /media/usb/handover
                  sh /media/usb/handover/handover.sh /var/lib/venue-node     # on the current node
                The current node judges every record as new: a check-in it already has, a box it already closed or a
                ballot beyond what a box returned is refused, so nothing counts twice. See docs/operations.md.
                """)

        @OptionGroup var data: DataDirectoryOption
        @Option(help: "Records after this one are handed over (default: this node's last acknowledged record).")
        var afterSeq: Int64?
        @Option(help: "Directory to write handover.sh and its CSV files into (created; must be empty).") var out:
            String?
        @Option(help: "On the current node (handover.sh does this first): refuse if it holds a record of records.txt.")
        var check: String?

        func validate() throws {
            guard (out == nil) != (check == nil) else { throw ValidationError("give exactly one of --out, --check") }
        }

        func run() throws {
            let (directory, database) = try data.open()
            if let check {
                let listed = try String(contentsOfFile: check, encoding: .utf8).split(separator: "\n").compactMap {
                    line in
                    let parts = line.split(separator: " ")
                    return parts.count == 2 ? Int64(parts[0]).map { ($0, String(parts[1])) } : nil
                }
                if let held = try database.firstHeld(of: listed) {
                    throw ValidationError(
                        "this node already holds record \(held.seq) of the handover (the aggregator accepted "
                            + "it, though the retired node never heard so): nothing was recorded. Hand over again from the "
                            + "retired node with --after-seq N, N being the last record this node holds of that node's chain "
                            + "(aggregator nodes list, column records)")
                }
                print("none of the \(listed.count) handed-over record(s) is on this node yet")
                return
            }
            guard let out else { return }
            let after = try afterSeq ?? database.acknowledgedSeq()
            let handover = try database.handover(afterSeq: after)
            let outURL = URL(filePath: out)
            try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
            guard try FileManager.default.contentsOfDirectory(atPath: outURL.path).isEmpty else {
                throw ValidationError("\(out) is not empty: give an empty or new directory")
            }
            let event = directory.event.definition
            var script = [
                "#!/bin/sh",
                "# Records of node \(directory.configuration.nodeID) (venue \(directory.configuration.venue)) after record "
                    + "\(after), up to \(handover.headSeq), to record again on the venue's current node.",
                "# Usage: sh handover.sh DATA_DIR_OF_THE_CURRENT_NODE",
                "set -e",
                "D=\"$(cd \"${1:?give the current node's data directory}\" && pwd)\"",
                "cd \"$(dirname \"$0\")\"",
                "venue-node handover --data-dir \"$D\" --check records.txt",
            ]
            try (handover.records.map { "\($0.seq) \($0.hash)" }.joined(separator: "\n") + "\n")
                .write(to: outURL.appending(path: "records.txt"), atomically: true, encoding: .utf8)
            func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            for box in handover.boxesOpened {
                script.append(
                    "venue-node box open --data-dir \"$D\" --session \(quote(box.session)) --box \(quote(box.box))")
            }
            for box in handover.boxesClosed {
                script.append(
                    "venue-node box close --data-dir \"$D\" --session \(quote(box.session)) --box \(quote(box.box)) "
                        + "--issued \(box.issued) --returned \(box.returned)"
                        + [
                            ("suggestions", RecordPayload.FormKind.suggestion), ("surveys", .survey),
                            ("discipline", .discipline),
                        ].compactMap { option, form in
                            box.forms?[form.rawValue].map { " --\(option) \($0)" }
                        }.joined())
            }
            // Corrections of records the current node holds come before new ballots: a voided ballot makes room.
            for correction in handover.corrections {
                var line =
                    "venue-node correct --data-dir \"$D\" --target \(correction.target) --reason \(quote(correction.reason)) "
                    + "--operator \(quote(correction.operator))"
                line += correction.replacement.map { " --replacement \(quote($0.canonicalJSON()))" } ?? " --void"
                script.append(line)
            }
            var walkins = 0
            let checkins = handover.checkins.filter { checkin in
                // A walk-in has no roster id to look up: they check in again by ID card.
                if checkin.walkin == true { walkins += 1 }
                return checkin.walkin != true
            }
            if !checkins.isEmpty {
                let rows = ["session,rep,category"] + checkins.map { "\($0.session),\($0.rep),\($0.category)" }
                try (rows.joined(separator: "\n") + "\n").write(
                    to: outURL.appending(path: "checkins.csv"), atomically: true,
                    encoding: .utf8)
                script.append("venue-node import --data-dir \"$D\" --checkins checkins.csv")
            }
            if !handover.ballots.isEmpty {
                let departments = event.departments.map(\.id)
                let rows =
                    ["session,box,status," + departments.joined(separator: ",")]
                    + handover.ballots.shuffled().map { ballot in
                        "\(ballot.session),\(ballot.box),\(ballot.status.rawValue),"
                            + departments.map { ballot.marks[$0] ?? "" }.joined(separator: ",")
                    }
                try (rows.joined(separator: "\n") + "\n").write(
                    to: outURL.appending(path: "ballots.csv"), atomically: true,
                    encoding: .utf8)
                script.append("venue-node import --data-dir \"$D\" --ballots ballots.csv")
            }
            // Suggestions and surveys, one command each (surveys in another order than they were entered).
            for form in handover.forms.shuffled() {
                var line =
                    "venue-node form --data-dir \"$D\" --session \(quote(form.session)) --box \(quote(form.box)) "
                    + "--kind \(form.form.rawValue)"
                if let answers = form.answers {
                    line +=
                        " --answers "
                        + quote(
                            answers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
                }
                if let text = form.text { line += " --text \(quote(text))" }
                if let departments = form.departments {
                    line += " --departments \(quote(departments.joined(separator: ",")))"
                }
                if let topic = form.topic { line += " --topic \(quote(topic))" }
                if let contact = form.contact, form.consent == true { line += " --contact \(quote(contact)) --consent" }
                script.append(line)
            }
            script.append("echo 'handover done: run venue-node status --data-dir \"$D\" and sync'")
            try (script.joined(separator: "\n") + "\n").write(
                to: outURL.appending(path: "handover.sh"), atomically: true,
                encoding: .utf8)
            print(
                "records \(after + 1)…\(handover.headSeq) verified; in effect: \(handover.boxesOpened.count) box opening(s), "
                    + "\(handover.boxesClosed.count) box closing(s), \(checkins.count) check-in(s), \(handover.ballots.count) "
                    + "ballot(s), \(handover.forms.count) other form(s), \(handover.corrections.count) correction(s) of "
                    + "earlier records")
            if walkins > 0 {
                print(
                    "\(walkins) walk-in(s) are not in checkins.csv: check them in again by ID card on the current node")
            }
            print("on the current node: sh \(out)/handover.sh DATA_DIR")
        }
    }
}
