"""Offline and privacy flags, set in code so that no user shell setting is needed."""

import os

_FLAGS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    """Force offline model loading and turn telemetry off for every library Papertrail loads."""
    for name, value in _FLAGS.items():
        os.environ[name] = value
