"""moto's server, with KMS keys that a restarted emulator can make again.

moto keeps its state in memory only: a restarted emulator has lost every KMS key, and
with it every webhook signing secret sealed under one (Postgres still holds them).
LocalStack lets CreateKey name a key's id and material with the tags `_custom_id_`
and `_custom_key_material_` (base64 of 32 bytes); moto ignores them. This wrapper
makes moto's CreateKey honour the same two tags, so that `infra/stack_emulator.py`
makes the same key, from the material kept under `.stack/`, on either emulator.

Run as `python -m infra.aws_emulator -H HOST -p PORT` (moto_server's arguments).
"""

from __future__ import annotations

import base64
import sys
from typing import Any

CUSTOM_ID_TAG = "_custom_id_"
CUSTOM_KEY_MATERIAL_TAG = "_custom_key_material_"


def honour_custom_key_tags() -> None:
    """Patch moto's KmsBackend.create_key to take the key's id and material from tags."""
    from moto.kms import models

    original = models.KmsBackend.create_key
    if getattr(original, "honours_custom_tags", False):
        return

    def create_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = original(self, *args, **kwargs)
        tags = kwargs.get("tags") if "tags" in kwargs else args[4] if len(args) > 4 else None
        named = {tag["TagKey"]: tag["TagValue"] for tag in tags or []}
        custom_id = named.get(CUSTOM_ID_TAG)
        if custom_id and custom_id != key.id:
            if custom_id in self.keys:
                del self.keys[key.id]
                raise models.ValidationException(f"a key with id {custom_id} already exists")
            del self.keys[key.id]
            key.arn = key.arn.rsplit("/", 1)[0] + "/" + custom_id
            key.id = custom_id
            self.keys[custom_id] = key
            self.tagger.tag_resource(custom_id, tags)
        material = named.get(CUSTOM_KEY_MATERIAL_TAG)
        if material:
            key.key_material = base64.b64decode(material)
        return key

    create_key.honours_custom_tags = True  # type: ignore[attr-defined]
    models.KmsBackend.create_key = create_key


def main(argv: list[str] | None = None) -> None:
    honour_custom_key_tags()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
