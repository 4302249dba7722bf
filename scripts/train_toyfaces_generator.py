#!/usr/bin/env python3
"""Train (or resume) the bundled toy-faces StyleGAN2, then optionally export it to checkpoints/.

Same options as `autodrag toyfaces train-generator` (it is that command). Examples:
  python scripts/train_toyfaces_generator.py --run runs/toyfaces_gen --minutes 60        # one piece
  python scripts/train_toyfaces_generator.py --run runs/toyfaces_gen --no-train \\
      --export checkpoints/toyfaces128.safetensors
Kill it at any time: the next call resumes from the last state save (every 5 minutes and at exit).
"""

from autodrag.toyfaces.cli import train_generator_command

if __name__ == "__main__":
    train_generator_command(prog_name="train_toyfaces_generator.py")
