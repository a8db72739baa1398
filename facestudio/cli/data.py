"""`facestudio data check DIR [--json]`: which images of a folder are usable, and why others are not."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["check"], help="check: list usable images and every skipped file with its reason")
    p.add_argument("dir", type=Path, help="the folder of training images (CelebA layout recognised)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    from facestudio.data import check_folder

    report = check_folder(args.dir)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    kind = " (CelebA layout, 40 attribute labels)" if report["celeba"] else ""
    print(f"{args.dir}: {report['images']} usable images{kind}, {len(report['skipped'])} skipped")
    for s in report["skipped"]:
        print(f"  skipped {s['path']}: {s['reason']}")
    return 0
