"""Writes fixture hotkey files with PyPI bittensor-wallet (the library
miners' wallets come from) and prints {hotkey name: ss58 address} as JSON.

  <path>/<wallet>/hotkeys/full       as the library writes it (secretSeed first)
  <path>/<wallet>/hotkeys/private    privateKey + public fields only
  <path>/<wallet>/hotkeys/phrase     secretPhrase + public fields only
  <path>/<wallet>/hotkeys/encrypted  the library's $NACL encryption
  <path>/<wallet>/hotkeys/unregistered  another key (not registered on the mock chain)

Usage: python make_wallet.py PATH WALLET
"""

import json
import os
import sys

from bittensor_wallet import Keypair, Wallet
from bittensor_wallet.keyfile import encrypt_keyfile_data

# A fixed phrase so that runs are reproducible; it protects nothing.
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OTHER = "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"


def main():
    path, name = sys.argv[1], sys.argv[2]
    out = {}
    for hotkey, phrase in [("full", PHRASE), ("unregistered", OTHER)]:
        wallet = Wallet(name=name, hotkey=hotkey, path=path)
        wallet.regenerate_hotkey(mnemonic=phrase, use_password=False, overwrite=True, suppress=True)
        out[hotkey] = wallet.hotkey.ss58_address
    hotkeys = os.path.join(path, name, "hotkeys")
    with open(os.path.join(hotkeys, "full")) as f:
        full = json.load(f)
    public = {k: full[k] for k in ("publicKey", "accountId", "ss58Address") if k in full}
    for hotkey, secret in [("private", "privateKey"), ("phrase", "secretPhrase")]:
        with open(os.path.join(hotkeys, hotkey), "w") as f:
            json.dump({secret: full[secret], **public}, f)
        out[hotkey] = full["ss58Address"]
    with open(os.path.join(hotkeys, "full"), "rb") as f:
        data = f.read()
    with open(os.path.join(hotkeys, "encrypted"), "wb") as f:
        f.write(encrypt_keyfile_data(data, "a fixture password"))
    out["encrypted"] = full["ss58Address"]
    out["secrets"] = [full["secretSeed"], full["privateKey"], full["secretPhrase"]]
    # The library's own key, independently of the file, for comparison.
    out["library"] = Keypair.create_from_mnemonic(PHRASE).ss58_address
    print(json.dumps(out))


if __name__ == "__main__":
    main()
