"""Expression presets: landmarks -> drag handles, targets and an automatic movable mask, and the drag wiring."""

from autodrag.presets.plan import EditPlan, plan_edit
from autodrag.presets.registry import (
    DEFAULT_PRESETS,
    PRESETS,
    STRENGTH_RANGE,
    Preset,
    PresetError,
    get_preset,
    parse_presets,
)
from autodrag.presets.wiring import PresetDrag, preset_drag, preset_drag_config, start_preset_drag

__all__ = [
    "DEFAULT_PRESETS",
    "PRESETS",
    "STRENGTH_RANGE",
    "EditPlan",
    "Preset",
    "PresetDrag",
    "PresetError",
    "get_preset",
    "parse_presets",
    "plan_edit",
    "preset_drag",
    "preset_drag_config",
    "start_preset_drag",
]
