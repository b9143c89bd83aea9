"""Self-signed TLS material for the loopback test servers.

    from tls import make_cert
    cert, key = make_cert(dirpath)      # DIR/cert.pem, DIR/key.pem

The certificate is for 127.0.0.1 and localhost (subjectAltName IP and DNS),
valid two days, made with the openssl command line (RECIPES.md §2).  A
client verifies it by taking cert.pem as its CA bundle (curl --cacert,
CURLOPT_CAINFO, [smtp] ca_file).  An existing pair in DIR is reused.
"""
import os
import subprocess


def make_cert(dirpath, name="cert"):
    """Creates DIR/<name>.pem and DIR/<name>-key.pem (key mode 0600) unless
    they exist; returns (cert_path, key_path)."""
    os.makedirs(dirpath, exist_ok=True)
    cert = os.path.join(dirpath, name + ".pem")
    key = os.path.join(dirpath, name + "-key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    return cert, key
