"""The content classifier's figures on real text, in one JSON object (docs/content.md, "What the figures mean").

    .venv/bin/python benchmarks/content_evaluate.py               # real quoted posts, SMS, EMSCAD (seconds)
    .venv/bin/python benchmarks/content_evaluate.py --generated   # also the generated held-out set (~80 s)
    .venv/bin/python benchmarks/content_evaluate.py --retrain     # also EMSCAD folds through the shipped pipeline

``real``: the shipped model on the posts quoted in public reports (avellino/content/data/real_posts.csv, never
trained on), harmful-vs-benign F1, per class, calibration bins. ``sms`` and ``emscad`` need ../shared/data/text
(or AVELLINO_SHARED_DATA) and are left out without it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from avellino.content import evaluate as ev
from avellino.content.classify import load_model
from avellino.settings import shared_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", action="store_true", help="also the generated held-out figures (slow)")
    parser.add_argument("--retrain", action="store_true", help="emscad_cv: also retrain the shipped pipeline (slow)")
    args = parser.parse_args()
    model = load_model()
    real = ev.real(ev.real_posts_path(), model)
    real.pop("posts_scored")
    out: dict[str, Any] = {"real": real}
    base = shared_data_dir()
    if base is not None:
        sms = base / "text/sms_spam_collection/SMSSpamCollection.tsv"
        emscad = base / "text/emscad_small/fj_small.csv"
        if sms.is_file():
            out["sms"] = ev.sms(sms)
        if emscad.is_file():
            out["emscad"] = ev.emscad(emscad, model)
            out["emscad_cv"] = ev.emscad_cv(emscad, pipeline_repeats=2 if args.retrain else 0)
    if args.generated:
        out["generated"] = ev.generated()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
