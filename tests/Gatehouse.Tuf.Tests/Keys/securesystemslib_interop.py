"""The other side of InteropTests: securesystemslib (Debian's python3-securesystemslib) signs and verifies.

  sign OUT       writes {"keys": {id: key}, "signed": {...}, "signatures": [...], "canonical": hex}
  verify IN      reads {"key": key, "keyid": id, "signed": {...}, "sig": hex}; exits 0 when the key ID is
                 the key's and the signature verifies
"""
import hashlib
import json
import sys

from securesystemslib import formats, keys


def public_metadata(key):
    return keys.format_keyval_to_metadata(key["keytype"], key["scheme"], {"public": key["keyval"]["public"]}, private=False)


def sign(out_path):
    signed = {
        "_type": "timestamp",
        "spec_version": "1.0.31",
        "version": 7,
        "expires": "2030-01-01T00:00:00Z",
        "meta": {"snapshot.json": {"version": 3}},
        "x-note": {"text": "quote \" backslash \\ tab \t newline \n unicode \u00e9\u4e2d\U0001f600", "zeta": 1, "Alpha": [True, False, None, -5]},
    }
    canonical = formats.encode_canonical(signed).encode("utf-8")
    signing_keys = [keys.generate_ecdsa_key(), keys.generate_rsa_key(2048)]
    result = {"keys": {}, "signed": signed, "signatures": [], "canonical": canonical.hex()}
    for key in signing_keys:
        result["keys"][key["keyid"]] = public_metadata(key)
        signature = keys.create_signature(key, canonical)
        result["signatures"].append({"keyid": signature["keyid"], "sig": signature["sig"]})
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out)


def verify(in_path):
    with open(in_path, encoding="utf-8") as f:
        request = json.load(f)
    key = dict(request["key"])
    key["keyid"] = request["keyid"]
    # The specification's key ID: SHA-256 over the canonical key object as metadata lists it.
    if hashlib.sha256(formats.encode_canonical(request["key"]).encode("utf-8")).hexdigest() != request["keyid"]:
        sys.exit(4)
    data = formats.encode_canonical(request["signed"]).encode("utf-8")
    ok = keys.verify_signature(key, {"keyid": request["keyid"], "sig": request["sig"]}, data)
    sys.exit(0 if ok else 3)


if __name__ == "__main__":
    {"sign": sign, "verify": verify}[sys.argv[1]](sys.argv[2])
