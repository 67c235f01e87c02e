"""Make a self-signed certificate for trying wss:// on this machine.

    python examples/tls/make_cert.py [DIRECTORY]

Writes ``cert.pem`` and ``key.pem`` (valid for ``localhost`` and
``127.0.0.1``, for 30 days) into DIRECTORY (default: the current one).
The server loads both; a client trusts ``cert.pem`` as its CA file.  For
anything public use a certificate from a real CA (e.g. Let's Encrypt).
Needs ``cryptography`` (installed with ``wsproto_cb[twisted]``).
"""

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_cert(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = Path(directory)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


if __name__ == "__main__":
    cert_file, key_file = make_cert(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(f"wrote {cert_file} and {key_file}")
