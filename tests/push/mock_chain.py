"""A stand-in Subtensor node for `gasguard push` tests: WebSocket JSON-RPC on
127.0.0.1 (a free port), serving real runtime metadata (V14, from
../shared/chain/) and a tiny in-memory chain.

On author_submitAndWatchExtrinsic it decodes the extrinsic with PyPI
scalecodec (an implementation independent of gasguard's), checks the call
(Commitments.set_commitment), era, nonce, tip and metadata-hash mode,
rebuilds the signed payload from its own state (genesis, versions, the era's
birth block) in the metadata's extension order, verifies the sr25519
signature with bittensor-wallet, applies the pallet's rules (registered
hotkey, at most 3 fields, Raw <= 128 bytes), stores the Registration under
the real CommitmentOf key and streams ready / inBlock / finalized.

Usage: python mock_chain.py --metadata FILE --log FILE [--registered SS58 ...]
       [--refuse-submits N] [--no-finalize]; prints "PORT <n>".
"""

import argparse
import asyncio
import hashlib
import json
import threading

import websockets
import xxhash
from bittensor_wallet import Keypair
from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset
from scalecodec.utils.ss58 import ss58_decode

SPEC_VERSION = 343
TX_VERSION = 1
ERA_PERIOD = 128


def twox(data, words):
    return b"".join(xxhash.xxh64(data, seed=i).intdigest().to_bytes(8, "little") for i in range(words))


def blake2_128(data):
    return hashlib.blake2b(data, digest_size=16).digest()


def compact(n):
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    return ((n << 2) | 2).to_bytes(4, "little")


def storage_key(pallet, item, netuid, account, hasher):
    return twox(pallet.encode(), 2) + twox(item.encode(), 2) + netuid.to_bytes(2, "little") + hasher(account) + account


class Chain:
    def __init__(self, metadata_hex, netuid, registered, refuse_submits, finalize):
        self.metadata_hex = metadata_hex
        # Decoding the metadata takes seconds: it runs in the background and
        # only extrinsic decoding waits for it.
        self.decoded = threading.Thread(target=self.decode_metadata, daemon=True)
        self.decoded.start()
        self.genesis = hashlib.sha256(b"mock genesis").digest()
        self.blocks = [self.genesis]  # block n's hash is blocks[n]
        for n in range(1, 1000):
            self.blocks.append(hashlib.sha256(b"block %d" % n).digest())
        self.nonces = {}
        self.storage = {}
        self.refuse_submits = refuse_submits
        self.finalize = finalize
        self.submitted = []
        for address in registered:
            account = bytes.fromhex(ss58_decode(address))
            # Uids: Identity(netuid), Blake2_128Concat(hotkey).
            key = storage_key("SubtensorModule", "Uids", netuid, account, blake2_128)
            self.storage[key] = (7).to_bytes(2, "little")

    def decode_metadata(self):
        self.rc = RuntimeConfigurationObject()
        self.rc.update_type_registry(load_type_registry_preset("core"))
        self.metadata = self.rc.create_scale_object("MetadataVersioned", data=ScaleBytes(self.metadata_hex))
        self.metadata.decode()
        self.rc.add_portable_registry(self.metadata)
        self.extensions = self.metadata.get_signed_extensions()

    @property
    def head(self):
        return len(self.blocks) - 1

    def new_block(self):
        n = len(self.blocks)
        self.blocks.append(hashlib.sha256(b"block %d" % n).digest())
        return n

    def additional(self, identifier, birth_hash):
        """The implicit bytes of one extension, from the node's own state."""
        values = {
            "CheckSpecVersion": SPEC_VERSION.to_bytes(4, "little"),
            "CheckTxVersion": TX_VERSION.to_bytes(4, "little"),
            "CheckGenesis": self.genesis,
            "CheckMortality": birth_hash,
            "CheckMetadataHash": b"\x00",  # Option::None: no metadata hash
        }
        if identifier in values:
            return values[identifier]
        if identifier in ("CheckNonZeroSender", "CheckNonce", "CheckWeight", "ChargeTransactionPayment",
                          "SubtensorTransactionExtension", "SudoTransactionExtension", "DrandPriority"):
            return b""
        raise ValueError(f"the mock does not know the extension {identifier}")

    def submit(self, extrinsic_hex):
        """(error or None, events): validates and applies one extrinsic."""
        raw = bytes.fromhex(extrinsic_hex[2:])
        self.decoded.join()
        ex = self.rc.create_scale_object("Extrinsic", data=ScaleBytes(raw), metadata=self.metadata)
        ex.decode()
        v = ex.value
        self.submitted.append(v)
        if "signature" not in v:
            return "unsigned extrinsic", None
        call = v["call"]
        if (call["call_module"], call["call_function"]) != ("Commitments", "set_commitment"):
            return f"unexpected call {call['call_module']}.{call['call_function']}", None
        account = bytes.fromhex(v["address"][2:])
        if v["tip"] != 0:
            return "tip is not 0", None
        if v["mode"] != {"mode": "Disabled"}:
            return f"metadata-hash mode is {v['mode']}", None
        period, phase = v["era"]
        if period != ERA_PERIOD:
            return f"era period {period}, expected {ERA_PERIOD}", None
        birth = self.head - ((self.head - phase) % period)
        if not 0 <= self.head - birth < period:
            return "era expired", None
        nonce = self.nonces.get(account, 0)
        if v["nonce"] != nonce:
            return f"Invalid Transaction: nonce {v['nonce']} is {'Stale' if v['nonce'] < nonce else 'Future'}", None
        # The signed payload: call, then each extension's explicit bytes as
        # they stand in the extrinsic, then each one's implicit bytes.
        call_bytes = bytes.fromhex(self.encode_call(call)[2:])
        if not raw.endswith(call_bytes):
            return "the call's bytes differ from scalecodec's encoding of the decoded call", None
        # Length prefix, version, MultiAddress::Id + 32 bytes, MultiSignature::Sr25519 + 64 bytes.
        start = len(raw) - int(v["extrinsic_length"]) + 1 + 1 + 32 + 1 + 64
        explicit = raw[start:len(raw) - len(call_bytes)]
        implicit = b"".join(self.additional(i, self.blocks[birth]) for i in self.extensions)
        payload = call_bytes + explicit + implicit
        if len(payload) > 256:
            payload = hashlib.blake2b(payload, digest_size=32).digest()
        signature = bytes.fromhex(v["signature"]["Sr25519"][2:])
        if not Keypair(public_key=account.hex()).verify(payload, signature):
            return "Invalid Transaction: BadProof", None
        # Accepted into a block: the nonce moves even if the call fails.
        self.nonces[account] = nonce + 1
        block = self.new_block()
        fields = call["call_args"][1]["value"]["fields"]
        uid_key = storage_key("SubtensorModule", "Uids", call["call_args"][0]["value"], account,
                              blake2_128)
        dispatch_error = None
        if uid_key not in self.storage:
            dispatch_error = "AccountNotAllowedCommit"
        elif len(fields) > 3:
            dispatch_error = "TooManyFieldsInCommitmentInfo"
        else:
            encoded = b""
            for f in fields:
                (kind, value), = f.items() if isinstance(f, dict) else ((f, None),)
                if not kind.startswith("Raw"):
                    dispatch_error = f"unsupported field {kind}"
                    break
                data = bytes.fromhex(value[2:])
                if len(data) > 128 or len(data) != int(kind[3:]):
                    dispatch_error = "field too long"
                    break
                encoded += bytes([len(data) + 1]) + data
            if dispatch_error is None:
                key = storage_key("Commitments", "CommitmentOf", call["call_args"][0]["value"], account,
                                  lambda a: twox(a, 1))
                self.storage[key] = (0).to_bytes(8, "little") + block.to_bytes(4, "little") + compact(len(fields)) + encoded
        return None, {"block": block, "dispatch_error": dispatch_error}

    def encode_call(self, call):
        args = {a["name"]: a["value"] for a in call["call_args"]}
        if "info" in args:
            args["info"] = {"fields": [args["info"]["fields"]]}
        obj = self.rc.create_scale_object("Call", metadata=self.metadata)
        return obj.encode({"call_module": call["call_module"], "call_function": call["call_function"],
                           "call_args": args}).to_hex()


def hexs(b):
    return "0x" + b.hex()


async def serve(chain, log_path, websocket):
    try:
        await answer_all(chain, log_path, websocket)
    except websockets.ConnectionClosed:
        pass  # a client killed mid-push (the tests do that on purpose)


async def answer_all(chain, log_path, websocket):
    sub_id = 0
    async for message in websocket:
        req = json.loads(message)
        method, params, rid = req["method"], req.get("params", []), req["id"]
        with open(log_path, "a") as f:
            f.write(json.dumps({"method": method, "params": params if method != "author_submitAndWatchExtrinsic" else ["..."]}) + "\n")
        result, error = None, None
        if method == "chain_getBlockHash":
            n = params[0] if params else chain.head
            result = hexs(chain.blocks[n]) if n < len(chain.blocks) else None
        elif method == "state_getRuntimeVersion":
            result = {"specName": "node-subtensor", "specVersion": SPEC_VERSION, "transactionVersion": TX_VERSION}
        elif method == "state_getMetadata":
            result = chain.metadata_hex
        elif method == "chain_getFinalizedHead":
            result = hexs(chain.blocks[chain.head])
        elif method == "chain_getHeader":
            h = bytes.fromhex(params[0][2:]) if params else chain.blocks[chain.head]
            n = chain.blocks.index(h) if h in chain.blocks else None
            result = None if n is None else {"number": hex(n), "parentHash": hexs(chain.blocks[max(n - 1, 0)])}
        elif method == "system_accountNextIndex":
            result = chain.nonces.get(bytes.fromhex(ss58_decode(params[0])), 0)
        elif method == "state_getStorage":
            value = chain.storage.get(bytes.fromhex(params[0][2:]))
            result = None if value is None else hexs(value)
        elif method == "author_submitAndWatchExtrinsic":
            if chain.refuse_submits > 0:
                chain.refuse_submits -= 1
                error = {"code": 1014, "message": "Priority is too low: (0 vs 0)", "data": "The transaction is already in the pool"}
            else:
                try:
                    problem, outcome = chain.submit(params[0])
                except Exception as e:  # an undecodable extrinsic
                    problem, outcome = f"cannot decode the extrinsic: {e!r}", None
                with open(log_path, "a") as f:
                    f.write(json.dumps({"submit": problem or "ok", "outcome": outcome}) + "\n")
                if problem:
                    error = {"code": 1010, "message": "Invalid Transaction", "data": problem}
                else:
                    sub_id += 1
                    await websocket.send(json.dumps({"jsonrpc": "2.0", "id": rid, "result": sub_id}))
                    block_hash = hexs(chain.blocks[outcome["block"]])
                    updates = ["ready", {"inBlock": block_hash}]
                    if chain.finalize:
                        updates.append({"finalized": block_hash})
                    for u in updates:
                        await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "author_extrinsicUpdate",
                                                         "params": {"subscription": sub_id, "result": u}}))
                    continue
        else:
            error = {"code": -32601, "message": f"Method not found: {method}"}
        answer = {"jsonrpc": "2.0", "id": rid}
        if error:
            answer["error"] = error
        else:
            answer["result"] = result
        await websocket.send(json.dumps(answer))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metadata", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--netuid", type=int, default=34)
    ap.add_argument("--registered", nargs="*", default=[])
    ap.add_argument("--refuse-submits", type=int, default=0)
    ap.add_argument("--no-finalize", action="store_true")
    a = ap.parse_args()
    with open(a.metadata) as f:
        metadata_hex = f.read().strip()
    chain = Chain(metadata_hex, a.netuid, a.registered, a.refuse_submits, not a.no_finalize)
    async with websockets.serve(lambda ws: serve(chain, a.log, ws), "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
