"""Tamper evidence's pure parts, below the storage layer: the canonical bytes of an event and its hashes
(canonical), RFC 6962 Merkle trees and proofs (merkle), the office's Ed25519 key (keys), what a step changed in the
case data (changes). engine.storage.chain seals events with them; engine.audit builds checkpoints, verification and
exports on top (docs/audit.md)."""
