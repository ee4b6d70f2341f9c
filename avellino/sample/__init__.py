"""Sample operation: a synthetic multi-agency smuggling case with ground truth (see docs/sample.md).

``generate(out_dir, scale, seed)`` writes partner exports (UK CSV, French CSV, German XLSX, Italian JSON,
Europol FtM JSON lines), one mapping per file, the truth files and ``manifest.json``.
"""

from avellino.sample.generate import PartnerFile, SampleManifest, generate

__all__ = ["PartnerFile", "SampleManifest", "generate"]
