"""A stand-in for BitMind's upload server (private; its contract is inferred
from gascli and miners' reports, see docs/push.md) and for the R2 bucket
behind the presigned URLs. Started by tests/push.rs on 127.0.0.1, a free port.

It verifies what gasguard sends with independent code: Epistula v2 headers
with bittensor-wallet's Keypair.verify (±15 s, no future timestamps), the
presign body's compact JSON and key order, the PUT's Content-Length and
SHA-256. Scripted answers (a JSON file, one list per endpoint, consumed in
order) replace the default behaviour, e.g.
  {"presigned": [{"status": 503, "json": {"detail": "Uploads for image are disabled"}}],
   "put": [{"drop": true}, {"status": 400, "xml": ["BadDigest", "..."]}]}
Every request is logged, one JSON object a line, to --log.

Usage: python mock_upload.py --log FILE [--script FILE]; prints "PORT <n>".
"""

import argparse
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bittensor_wallet import Keypair

PRESIGN_KEYS = ["filename", "file_size", "expected_hash", "content_type", "modality", "vertical"]

state_lock = threading.Lock()
slots = {}  # model_id -> {"hash", "size", "key", "uploaded", "confirmed", "hotkey"}
confirmed_hashes = set()
script = {}
log_path = None


def log(entry):
    with state_lock:
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def scripted(endpoint):
    with state_lock:
        answers = script.get(endpoint) or []
        return answers.pop(0) if answers else None


def verify_epistula(headers, body):
    """None if the headers are a valid Epistula v2 signature of body."""
    try:
        if headers.get("Epistula-Version") != "2":
            return "Epistula-Version is not 2"
        ts = int(headers["Epistula-Timestamp"])
        uuid = headers["Epistula-Uuid"]
        signed_by = headers["Epistula-Signed-By"]
        sig = headers["Epistula-Request-Signature"]
    except (KeyError, ValueError, TypeError) as e:
        return f"missing or bad Epistula header: {e}"
    now = int(time.time() * 1000)
    if ts > now + 1000 or now - ts > 15000:
        return "timestamp outside the allowed window"
    message = f"{hashlib.sha256(body).hexdigest()}.{uuid}.{ts}."
    if not sig.startswith("0x"):
        return "signature is not 0x-hex"
    try:
        ok = Keypair(ss58_address=signed_by).verify(message.encode(), bytes.fromhex(sig[2:]))
    except Exception as e:  # a malformed address or signature
        return f"cannot verify: {e}"
    return None if ok else "signature does not verify"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_xml(self, status, code, message):
        body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self, item):
        """Sends a scripted answer; True if one was sent."""
        if item.get("drop"):
            self.close_connection = True
            return True
        if "xml" in item:
            self.send_xml(item["status"], *item["xml"])
        else:
            self.send_json(item["status"], item.get("json", {}))
        return True

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n)

    def do_POST(self):
        body = self.read_body()
        endpoint = self.path.rsplit("/", 1)[-1]
        entry = {"method": "POST", "path": self.path, "endpoint": endpoint}
        problem = verify_epistula(self.headers, body)
        entry["signature_ok"] = problem is None
        if problem:
            entry["problem"] = problem
            log(entry)
            return self.send_json(401, {"detail": problem})
        if self.headers.get("Content-Type") != "application/json":
            entry["problem"] = "Content-Type"
            log(entry)
            return self.send_json(400, {"detail": "Content-Type must be application/json"})
        item = scripted(endpoint)
        if item is not None:
            entry["scripted"] = item
            log(entry)
            return self.answer(item)
        if endpoint == "presigned":
            return self.presign(body, entry)
        if endpoint == "confirm":
            return self.confirm(body, entry)
        log(entry)
        return self.send_json(404, {"detail": "not found"})

    def presign(self, body, entry):
        try:
            req = json.loads(body, object_pairs_hook=list)
        except ValueError:
            req = None
        keys = [k for k, _ in req] if isinstance(req, list) else None
        if keys != PRESIGN_KEYS or body != json.dumps(dict(req), separators=(",", ":")).encode():
            entry["problem"] = "presign body is not compact JSON in the documented key order"
            log(entry)
            return self.send_json(400, {"detail": entry["problem"]})
        req = dict(req)
        entry["body"] = req
        if req["vertical"] == "human" and req["modality"] == "audio":
            log(entry)
            return self.send_json(400, {"detail": "Vertical 'human' is only available for: image, video"})
        hotkey = self.headers["Epistula-Signed-By"]
        with state_lock:
            if req["expected_hash"] in confirmed_hashes:
                status = 409
            else:
                status = 200
                model_id = len(slots) + 101
                key = f"models/{req['modality']}/{hotkey[:8]}/{req['expected_hash'][:16]}.zip"
                slots[model_id] = {"hash": req["expected_hash"], "size": req["file_size"], "key": key,
                                   "uploaded": False, "confirmed": False, "hotkey": hotkey}
        if status == 409:
            log(entry)
            return self.send_json(409, {"detail": "file with this hash already exists"})
        host, port = self.server.server_address
        entry["model_id"] = model_id
        log(entry)
        return self.send_json(200, {"data": {
            "model_id": model_id,
            "presigned_url": f"http://{host}:{port}/r2/{model_id}?X-Amz-Signature=mock",
            "r2_key": key,
            "submissions_used": 1,
            "submissions_max": 1,
        }})

    def confirm(self, body, entry):
        req = json.loads(body)
        entry["body"] = req
        if body != json.dumps({"model_id": req.get("model_id"), "file_hash": req.get("file_hash")},
                              separators=(",", ":")).encode():
            entry["problem"] = "confirm body is not compact {model_id, file_hash} in that order"
            log(entry)
            return self.send_json(400, {"detail": entry["problem"]})
        with state_lock:
            slot = slots.get(req.get("model_id"))
            ok = slot is not None and slot["uploaded"] and slot["hash"] == req.get("file_hash")
            if ok:
                slot["confirmed"] = True
                confirmed_hashes.add(slot["hash"])
        log(entry)
        if not ok:
            return self.send_json(400, {"detail": "nothing uploaded for this model_id and hash"})
        return self.send_json(200, {"data": {"status": "confirmed"}})

    def do_PUT(self):
        entry = {"method": "PUT", "path": self.path, "endpoint": "put",
                 "content_length": self.headers.get("Content-Length"),
                 "transfer_encoding": self.headers.get("Transfer-Encoding"),
                 "content_type": self.headers.get("Content-Type")}
        item = scripted("put")
        if item is not None and item.get("drop"):
            # Read part of the body, then drop the connection mid-transfer.
            self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 100))
            entry["scripted"] = item
            log(entry)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if self.headers.get("Content-Length") is None or self.headers.get("Transfer-Encoding"):
            entry["problem"] = "no Content-Length (chunked)"
            log(entry)
            return self.send_xml(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        body = self.read_body()
        entry["size"] = len(body)
        entry["sha256"] = hashlib.sha256(body).hexdigest()
        if item is not None:
            entry["scripted"] = item
            log(entry)
            return self.answer(item)
        try:
            model_id = int(self.path.split("/r2/")[1].split("?")[0])
        except (IndexError, ValueError):
            model_id = None
        with state_lock:
            slot = slots.get(model_id)
            good = slot is not None and slot["hash"] == entry["sha256"] and slot["size"] == len(body)
            if good:
                slot["uploaded"] = True
        log(entry)
        if slot is None:
            return self.send_xml(403, "AccessDenied", "Request has expired")
        if not good:
            return self.send_xml(400, "BadDigest", "The Content-SHA256 you specified did not match what we received.")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    global script, log_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--script")
    a = ap.parse_args()
    log_path = a.log
    if a.script:
        with open(a.script) as f:
            script = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
