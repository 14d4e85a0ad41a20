"""Tamper evidence for the case history: hash chains, Merkle checkpoints signed with the office's Ed25519 key, and
the proofs an outside auditor checks (docs/audit.md)."""
