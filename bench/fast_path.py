"""The selfie's fast path against the full face search, on the evaluation set and its variants.

For every scene of bench/eval_set.py, in every variant of bench/detection.py (mirrored, rescaled,
turned), runs search_faces with the fast path (the default) and without it (every pass), and
prints per variant: how many photos took the fast path, how many came out with other faces than the
full search (the boxes compared to the pixel; must be 0), and the model runs each took.

    .venv/bin/python bench/fast_path.py              # every variant
    .venv/bin/python bench/fast_path.py --quick      # as is, mirrored, turned 180
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="three variants only")
    args = parser.parse_args()
    from detection import VARIANTS, variant
    from eval_set import build

    from ananacare.models import BudgetedRegistry, ModelRegistry, load_specs
    from ananacare.preprocess.faces import search_faces
    from ananacare.timing import WorkBudget

    registry = ModelRegistry(load_specs(), threads=1)
    registry.load_all()
    scenes = build()
    chosen = [v for v in VARIANTS if not args.quick or v[0] in ("as is", "mirrored", "turned 180")]
    print(f"{'variant':>14}  {'photos':>6}  {'fast path':>9}  {'differ':>6}  {'runs full':>9}  {'runs fast':>9}")
    for name, factor, mirror, turn in chosen:
        fast_count = differ = runs_full = runs_fast = 0
        for scene in scenes:
            image = variant(scene, factor, mirror, turn).image
            outcomes = []
            for fast in (False, True):
                budget = WorkBudget()
                with budget.searching():
                    faces, _ = search_faces(image, BudgetedRegistry(registry, budget), budget, fast=fast)
                outcomes.append(([tuple(round(v, 1) for v in e.face.box) for e in faces], budget.search_runs))
            (full, full_runs), (quick, quick_runs) = outcomes
            runs_full += full_runs
            runs_fast += quick_runs
            fast_count += quick_runs < full_runs
            if full != quick:
                differ += 1
                print(f"  differs: {scene.name} ({name}): full {full}, fast {quick}")
        print(f"{name:>14}  {len(scenes):>6}  {fast_count:>9}  {differ:>6}  {runs_full:>9}  {runs_fast:>9}", flush=True)


if __name__ == "__main__":
    main()
