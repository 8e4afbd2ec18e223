"""Build the shipped data from its sources: `python -m villages.data.build SOURCE_DIR`, where
SOURCE_DIR holds `regions.csv` and `boundaries/` (provinces, regencies, districts and
`villages/PP.geojson.gz`), as described in SOURCE.md beside this file.

The region list is copied unchanged, gzipped. Each boundary is simplified to the finest level
of detail the project keeps for its level (villages.geometry), so that importing the shipped
files gives what importing the sources would, at a fraction of the size."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from . import BOUNDARIES, DEMO_PROVINCE, REGIONS, SHIPPED_BOUNDARIES


def _write_gzip(path: Path, data: bytes) -> None:
    # mtime 0: the same input gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0, compresslevel=9) as out:
        out.write(data)


def _simplified(source: Path) -> bytes:
    from villages.geometry import outlines, parse
    from villages.services import level_for_code

    document = json.loads(gzip.decompress(source.read_bytes()))
    features = []
    for feature in document["features"]:
        code = feature["id"]
        level = level_for_code(code)
        assert level is not None, code
        finest = list(outlines(parse(feature["geometry"]), level))[-1]
        properties = json.dumps({"code": code, "name": feature["properties"]["name"]}, ensure_ascii=False)
        features.append(
            '{"type":"Feature","id":'
            + json.dumps(code)
            + ',"properties":'
            + properties
            + ',"geometry":'
            + finest.geometry
            + "}"
        )
    return ('{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n").encode()


def main(source_dir: Path) -> None:
    _write_gzip(REGIONS, (source_dir / "regions.csv").read_bytes())
    BOUNDARIES.mkdir(exist_ok=True)
    sources = [source_dir / "boundaries" / name for name in ("provinces", "regencies", "districts")]
    sources = [path.with_suffix(".geojson.gz") for path in sources]
    sources.append(source_dir / "boundaries" / "villages" / f"{DEMO_PROVINCE}.geojson.gz")
    for source, target in zip(sources, SHIPPED_BOUNDARIES, strict=True):
        _write_gzip(target, _simplified(source))
        print(f"{target.name}: {target.stat().st_size / 1e6:.2f} MB (from {source.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    import django

    django.setup()
    main(Path(sys.argv[1]))
