"""The model catalog: what the gateway knows about each upstream model (limits, prices,
capabilities, strengths, a quality score), shipped as ``models.yaml`` and extendable from config."""

from switchyard.catalog.catalog import Catalog
from switchyard.catalog.model_info import ModelCapabilities, ModelInfo

__all__ = ["Catalog", "ModelCapabilities", "ModelInfo"]
