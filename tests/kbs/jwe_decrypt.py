#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
# Decrypts a veil-kbs resource response with Debian's python3-jwcrypto, an
# implementation independent of veil's: jwe_decrypt.py KEY.pem RESPONSE.json
# prints the plaintext as hex. Exit 3 when jwcrypto is not installed.
import sys

try:
    from jwcrypto import jwe, jwk
except ImportError:
    sys.exit(3)

key = jwk.JWK.from_pem(open(sys.argv[1], "rb").read())
token = jwe.JWE()
token.deserialize(open(sys.argv[2]).read(), key=key)
sys.stdout.write(token.payload.hex())
