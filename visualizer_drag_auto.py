"""AutoDrag's desktop visualizer: `python visualizer_drag_auto.py [ckpt.pkl]`."""

import sys

from autodrag.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
