import Crypto
import Foundation
import Shared

extension Intake {
    /// `POST /v1/enrolments`: enrols the key a one-time token is presented with. The request must be
    /// signed by that key (its node id as `keyid`): only the holder of the private key can enrol it.
    public func enrol(_ request: SignedRequest) throws -> EnrolmentResponse {
        try Self.requireJSON(request)
        let keyID = try Self.keyID(request)
        guard request.body.count <= 4_096 else {
            throw APIError(.contentTooLarge, .bodyTooLarge, "an enrolment request may be at most 4096 bytes")
        }
        // The key to verify with is in the body: a small, flat document, parsed before the signature is checked.
        let enrolment: EnrolmentRequest
        do {
            enrolment = try JSONDecoder().decode(EnrolmentRequest.self, from: request.body)
        } catch {
            throw APIError(.badRequest, .invalidBody, "the body is not an enrolment request: \(error)")
        }
        guard let key = NodeIdentity.publicKey(base64: enrolment.publicKey) else {
            throw APIError(.badRequest, .invalidBody, "public_key is not an Ed25519 public key (base64 of 32 bytes)")
        }
        guard NodeIdentity.nodeID(for: key) == keyID else {
            throw APIError(.forbidden, .nodeMismatch, "the request is signed as \(keyID), not by the key it enrols")
        }
        try verifySignature(request, method: "POST", key: key)
        do {
            let node = try database.redeemEnrolmentToken(enrolment.token, venue: enrolment.venue, key: key, now: Date())
            return EnrolmentResponse(
                node: node.id, venue: node.venue, epoch: node.epoch,
                aggregatorKey: signingKey?.publicKey.rawRepresentation.base64EncodedString())
        } catch let refusal as EnrolmentRefusal {
            switch refusal {
            case .unknownToken: throw APIError(.unauthorized, .enrolmentTokenInvalid, refusal.description)
            case .expired: throw APIError(.unauthorized, .enrolmentTokenExpired, refusal.description)
            case .used: throw APIError(.conflict, .enrolmentTokenUsed, refusal.description)
            case .otherVenue: throw APIError(.forbidden, .enrolmentTokenOtherVenue, refusal.description)
            case .revoked: throw APIError(.unauthorized, .enrolmentTokenRevoked, refusal.description)
            }
        } catch let error as AggregatorError {
            throw APIError(.conflict, .enrolmentTokenUsed, error.description)
        }
    }
}
