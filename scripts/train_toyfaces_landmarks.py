"""Train the bundled landmark detector (checkpoints/toyfaces_landmarks.safetensors).

Same options as `autodrag toyfaces train-landmarks`; resumable (re-run to continue).
Recommended on a shared machine:  nohup nice -n 10 python scripts/train_toyfaces_landmarks.py &
"""

from autodrag.toyfaces.cli import train_landmarks_command

if __name__ == "__main__":
    train_landmarks_command(prog_name="train_toyfaces_landmarks.py")
