"""C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], tiles of 256 hashes or entries."""

import re

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_ELEMENT = re.compile(r"^(?:x\d{3}/)*\d{3}(?:\.p/(\d{1,3}))?$")


def index_path(n: int) -> str:
    """N as zero-padded 3-digit path elements, all but the last prefixed with x: 1234067 → x001/x234/067."""
    digits = f"{n:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{index_path(n)}{suffix}"


def tile_parse(rest: str) -> tuple[int, int]:
    """(N, W) of the part after tile/<L>/; ValueError when it is not a canonical tile path."""
    match = _ELEMENT.match(rest)
    if not match:
        raise ValueError("not a tile path")
    width = TILE_WIDTH
    if match.group(1) is not None:
        width = int(match.group(1))
        if not 1 <= width < TILE_WIDTH or str(width) != match.group(1):
            raise ValueError("a partial tile's width is 1 to 255")
    base = rest.split(".p/")[0]
    n = int(base.replace("x", "").replace("/", ""))
    if index_path(n) != base:
        raise ValueError("not a canonical tile index")
    return n, width


def tiles_for(size: int, level: int) -> list[tuple[int, int]]:
    """(N, W) of every tile of `level` in a tree of `size` leaves: full tiles, then the partial one if any."""
    stored = size >> (TILE_HEIGHT * level)
    tiles = [(n, TILE_WIDTH) for n in range(stored // TILE_WIDTH)]
    if stored % TILE_WIDTH:
        tiles.append((stored // TILE_WIDTH, stored % TILE_WIDTH))
    return tiles
