import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gradescope_env import gradescope_env  # noqa: E402,F401 - the session fixture: Gradescope's environment, built by setup.sh
