"""Expression presets: landmarks -> drag handles, targets and an automatic movable mask."""

from autodrag.presets.plan import EditPlan, PresetError, plan_edit
from autodrag.presets.registry import PRESETS, STRENGTH_RANGE, Preset, get_preset, parse_presets

__all__ = ["EditPlan", "PRESETS", "Preset", "PresetError", "STRENGTH_RANGE", "get_preset", "parse_presets",
           "plan_edit"]
