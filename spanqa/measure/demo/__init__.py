"""spanqa's synthetic demo corpus: clinical notes, injected annotation errors, a manifest.

- :func:`generate_notes` - clean synthetic notes with gold spans (:mod:`spanqa.measure.demo.generator`).
- :func:`inject_errors` - a noisy copy and the manifest of what was injected (:mod:`spanqa.measure.demo.noise`).
- :func:`write_demo` - both as brat folders plus ``manifest.jsonl`` and a README (:mod:`spanqa.measure.demo.export`).
- :func:`group_of` - the patient id in a demo doc id (``p012_n2`` -> ``p012``).

Nothing here comes from a real patient record.
"""

from spanqa.measure.demo.export import DemoPaths, write_demo
from spanqa.measure.demo.generator import LABELS, generate_notes, group_of, parse_markup
from spanqa.measure.demo.noise import KINDS, apply_manifest_backwards, inject_errors

__all__ = ["DemoPaths", "KINDS", "LABELS", "apply_manifest_backwards", "generate_notes", "group_of",
           "inject_errors", "parse_markup", "write_demo"]
