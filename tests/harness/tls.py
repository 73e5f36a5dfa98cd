"""Test PKI for HTTPS to the emulator: a private CA and a server certificate it signs, written as
PEM files, plus Java truststores of CA certificates (PKCS12/JKS through the JDK's keytool, so the
entries carry Java's "trusted certificate" attribute exactly as users' truststores do).

    pki = make_pki(workdir / "pki")       # pki.ca, pki.cert, pki.key (paths)
    Emulator(tls_cert=pki.cert, tls_key=pki.key, tls_ca=pki.ca)
"""
import datetime
import shutil
import subprocess
from collections import namedtuple
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Pki = namedtuple("Pki", "ca cert key")


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(folder, ca_name="starrocks-test CA", names=("127.0.0.1", "localhost")) -> Pki:
    """A fresh EC CA and a server certificate for `names` (IPs and DNS names), valid from an hour
    ago for 30 days. Returns the paths of ca.pem, server.pem and server.key in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name)).issuer_name(_name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    cert = (x509.CertificateBuilder().subject_name(_name("starrocks-emulator")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return pki


def keytool() -> str:
    path = shutil.which("keytool")
    if not path:
        raise RuntimeError("keytool (from the JDK) is needed to write Java truststores")
    return path


def java_truststore(path, ca_pems, password, storetype="PKCS12") -> Path:
    """A PKCS12 or JKS truststore at `path` holding the CA certificates `ca_pems` (PEM files)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    for i, pem in enumerate(ca_pems):
        subprocess.run([keytool(), "-importcert", "-noprompt", "-alias", "ca%d" % i, "-file", str(pem),
                        "-keystore", str(path), "-storetype", storetype, "-storepass", password],
                       check=True, capture_output=True, timeout=60)
    return path
