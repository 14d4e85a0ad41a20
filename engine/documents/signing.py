"""The office's electronic signature on issued documents: PAdES (PDF Advanced Electronic Signatures) with pyHanko.

The office configures a certificate and its private key (PEM files: settings `signing_cert`, `signing_key`,
optionally `signing_key_password`). Every issued document is then signed by the office's key, the signature naming
who signed it (the person who completed the step) and who co-signed; the signing time is the moment of issue.
pyHanko signs by incremental update, which PDF/A-2 allows, so the signed file is still PDF/A.

Without a certificate, documents carry their verification code and the recorded signers only: Decreto 5-2021
presumes signatures authentic, and the code on the public page proves the file is the one issued.

`make run` creates a demo certificate (`make_demo_certificate`), self-signed and named as such in its subject,
so nobody mistakes a test installation's signature for the office's.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path

log = logging.getLogger(__name__)

DEMO_MARK = "CERTIFICADO DE DEMOSTRACION - SIN VALIDEZ LEGAL"
FIELD_NAME = "FirmaGobernacion"
LOCATION = "Chimaltenango, Guatemala"


class SigningUnavailable(Exception):
    """The configured certificate or key cannot be read (raised at start, not at the first document)."""


@dataclass(frozen=True)
class OfficeSigner:
    """The office's certificate and key, loaded once."""
    cert_path: Path
    key_path: Path
    chain_path: Path | None = None  # the certificates above the office's, up to the authority verifiers trust
    key_password: bytes | None = None

    @cached_property
    def _signer(self):
        from pyhanko.sign import signers
        try:
            signer = signers.SimpleSigner.load(
                str(self.key_path), str(self.cert_path), key_passphrase=self.key_password,
                ca_chain_files=(str(self.chain_path),) if self.chain_path else None)
        except (OSError, ValueError) as exc:
            raise SigningUnavailable(f"cannot load the signing certificate or key: {exc}") from exc
        if signer is None:  # pyHanko logs the cause and returns None
            raise SigningUnavailable(f"cannot load the signing key {self.key_path} with certificate {self.cert_path}")
        return signer

    def check(self) -> None:
        """Load now: a wrong path or password stops the start, not the first signature."""
        self._signer  # noqa: B018

    @property
    def certificate(self):
        return self._signer.signing_cert

    @cached_property
    def trust_roots(self) -> list:
        """What verification trusts: the chain's certificates (the authority), else the office's certificate."""
        from pyhanko.keys import load_certs_from_pemder
        if self.chain_path is None:
            return [self.certificate]
        return list(load_certs_from_pemder([str(self.chain_path)]))

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @property
    def is_demo(self) -> bool:
        return DEMO_MARK in self.subject

    def sign(self, pdf: bytes, *, signer_name: str, cosigner: str | None, reason: str) -> bytes:
        """`pdf` signed PAdES (B-B) by the office's key, naming the signer (and co-signer) in the signature; the
        signing time in the signature is the server's clock at signing (pyHanko takes it)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko.sign.fields import SigSeedSubFilter

        name = signer_name if not cosigner else f"{signer_name}; cofirma: {cosigner}"
        meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=reason, location=LOCATION, name=name,
                                            subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = signers.PdfSigner(meta, signer=self._signer)
        return pdf_signer.sign_pdf(writer).getvalue()


def load_signer(cert: str | None, key: str | None, chain: str | None = None,
                password: str | None = None) -> OfficeSigner | None:
    """The office's signer from the settings, or None when no certificate is configured; both or neither."""
    if not cert and not key:
        return None
    if not cert or not key:
        raise SigningUnavailable("configure both EXPEDIENTE_SIGNING_CERT and EXPEDIENTE_SIGNING_KEY, or neither")
    signer = OfficeSigner(Path(cert), Path(key), Path(chain) if chain else None,
                          password.encode("utf-8") if password else None)
    signer.check()
    return signer


def verify(pdf: bytes, office: OfficeSigner | None = None) -> dict:
    """The electronic signature of a PDF as the verification page reports it.

    `status`: "unsigned" (no signature); "valid" (intact, covering the whole file, made with the office's
    configured certificate and trusted through its chain); "untrusted" (intact, but not the office's configured
    certificate, or none is configured now); "invalid" (the file changed after signing, or the signature does
    not verify). With `signer` (the certificate's subject), `name` (who signed, as the signature records it),
    `signed_at` and `demo` (a demo certificate)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    empty = {"signer": None, "name": None, "signed_at": None, "demo": False}
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any unreadable PDF is simply not a verifiable signature
        log.info("cannot read a PDF's signatures: %s", exc)
        return {"status": "invalid", **empty}
    if not signatures:
        return {"status": "unsigned", **empty}
    sig = signatures[-1]
    roots = office.trust_roots if office is not None else []
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
    except Exception as exc:  # noqa: BLE001 - pyHanko and its certificate validator raise many kinds
        log.info("a signature does not validate: %s", exc)
        return {"status": "invalid", **empty}
    cert = status.signing_cert
    subject = cert.subject.human_friendly if cert is not None else None
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not (status.intact and status.valid and whole):
        verdict = "invalid"
    elif office is not None and status.trusted and cert is not None and cert.dump() == office.certificate.dump():
        verdict = "valid"
    else:
        verdict = "untrusted"
    name = sig.sig_object.get("/Name")
    return {"status": verdict, "signer": subject, "name": str(name) if name is not None else None,
            "signed_at": status.signer_reported_dt, "demo": bool(subject and DEMO_MARK in subject)}


def make_demo_certificate(directory: Path, *, now: datetime | None = None) -> tuple[Path, Path, Path]:
    """A demo signing certificate issued by a demo authority, both named as demos in their subjects, in
    `directory` (PEM; the key unencrypted, readable by its owner only); returns (cert, key, chain) paths, the
    chain holding the demo authority. Existing files are kept: the demo office keeps its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "firma-demo.crt.pem", directory / "firma-demo.key.pem", directory / "firma-demo-ca.crt.pem"
    if all(p.exists() for p in paths):
        return paths
    now = now or datetime.now(timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gobernacion Departamental de Chimaltenango"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_MARK),
            x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def usage(*, sign_certs: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=not sign_certs,
                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                             key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False, decipher_only=False)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Autoridad de demostracion (sin validez)")
    valid = dict(not_valid_before=now - timedelta(days=1), not_valid_after=now + timedelta(days=3 * 365))
    ca = (x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, public_key=ca_key.public_key(),
                                  serial_number=x509.random_serial_number(), **valid)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(sign_certs=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder(subject_name=name("Expediente - firma de demostracion"), issuer_name=ca_name,
                                    public_key=key.public_key(), serial_number=x509.random_serial_number(), **valid)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(sign_certs=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path, chain_path = paths
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths
