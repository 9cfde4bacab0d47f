"""Probe suites: the questions a model is asked, as data, validated, with a content hash as identity.

A suite is a YAML file in the repository's ``probes/`` directory (the built-in suites) or in
``<data_dir>/probes/`` (suites a user imported). Two runs are comparable only when they ran the same
suite content, so a suite is identified by the sha256 of its canonical JSON content, not by its name.

The file format (every key except ``name``, ``version`` and ``probes`` is optional)::

    name: identity                 # must equal the file name (identity.yaml)
    version: 1                     # bump by hand when the questions change meaning
    description: Who does the model say it is?
    sampling:                      # defaults shown
      temperature: 0.6             # >= 0
      top_p: 0.95                  # 0 < top_p <= 1
      max_tokens: 2048             # >= 1
      samples: 8                   # sampled responses per probe (sample_index 1..samples), >= 0
      greedy: true                 # plus one greedy response at sample_index 0
    defaults:                      # fill a probe's category / language when it has none
      category: identity           # identity | reasoning | format
      language: en                 # ISO 639-1
    probes:
      - id: direct-who-en          # unique in the suite: letters, digits, . _ : -
        tags: [direct]
        system: You are a helpful assistant.   # optional system prompt ...
        prompt: Who are you?                   # ... and one user turn, or instead:
      - id: multiturn-creator-en
        messages:                  # optional system first, then user/assistant turns ending on user
          - {role: user, content: Hi!}
          - {role: assistant, content: Hello! How can I help?}
          - {role: user, content: Who made you?}
        expected: null             # gold answer; required for category reasoning

Validation errors name the file, the probe and the field, e.g.
``probes/identity.yaml: probe 'direct-who-en': field 'messages': must be a non-empty list``.
"""


from monitor.probes._import import IMPORT_SAMPLING, BenchmarkFormat, import_benchmark
from monitor.probes._model import REASONING_INSTRUCTION, Probe, ProbeCategory, Suite, SuiteSampling
from monitor.probes._parsing import suite_from_content
from monitor.probes._yaml import list_suites, load_suite, suite_files, suite_to_yaml, suites_dirs

__all__ = [
    "IMPORT_SAMPLING",
    "REASONING_INSTRUCTION",
    "BenchmarkFormat",
    "Probe",
    "ProbeCategory",
    "Suite",
    "SuiteSampling",
    "import_benchmark",
    "list_suites",
    "load_suite",
    "suite_files",
    "suite_from_content",
    "suite_to_yaml",
    "suites_dirs",
]
