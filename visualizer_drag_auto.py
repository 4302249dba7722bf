"""AutoDrag's desktop visualizer: `python visualizer_drag_auto.py [ckpt.pkl]`."""

import sys

from autodrag.runtime import configure_process

configure_process()  # before torch loads

from autodrag.gui.app import main  # noqa: E402  (after the process set-up)

if __name__ == "__main__":
    sys.exit(main())
