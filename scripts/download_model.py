"""Download the reference model, Llama-2-7B-Chat Q4_K_M GGUF (about 4.1 GB), into models/.

    python scripts/download_model.py            # TheBloke/Llama-2-7B-Chat-GGUF
    python scripts/download_model.py --repo R --file F

Then run with RAGQA_CHAT_FORMAT=llama-2 (TheBloke's GGUFs carry no chat template).
Needs internet access to huggingface.co and `pip install 'ragqa[download]'`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = "TheBloke/Llama-2-7B-Chat-GGUF"
FILE = "llama-2-7b-chat.Q4_K_M.gguf"
MODELS = Path(__file__).resolve().parent.parent / "models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--file", default=FILE)
    parser.add_argument("--dest", type=Path, default=MODELS)
    args = parser.parse_args(argv)
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        print("error: huggingface_hub is missing: pip install 'ragqa[download]'", file=sys.stderr)
        return 2
    args.dest.mkdir(parents=True, exist_ok=True)
    try:
        path = hf_hub_download(repo_id=args.repo, filename=args.file, local_dir=args.dest)
    except Exception as exc:  # offline, DNS failure, 404, HF_HUB_OFFLINE=1 ...
        print(
            f"error: could not download {args.file} from {args.repo} ({type(exc).__name__}: {exc}).\n"
            "This needs internet access to huggingface.co and HF_HUB_OFFLINE unset. Offline, copy "
            f"a .gguf file into {args.dest} by hand, or set RAGQA_MODEL_PATH.",
            file=sys.stderr,
        )
        return 1
    print(f"saved {path}\nuse it: RAGQA_MODEL_PATH={path} RAGQA_CHAT_FORMAT=llama-2 ragqa serve")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
