"""Regenerates the checked-in API documents of the demo data: ``swagger2.json``, ``openapi3.json``.

Run from the repository root after any change to the public contract, and commit the diff:

    python openapi/regenerate.py

``tests/openapi/test_drift.py`` fails while the files differ from what the code generates. The
documents describe a gateway at the default address (``http://127.0.0.1:8080``) in front of a
fresh demo sandbox (``gateway.sandbox.demo``), with the webhook triggers the demo's
``WebhookSecret`` turns on and the demo's examples (``gateway.cli.demo_examples``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a source tree

from gateway.cli import demo_examples  # noqa: E402
from gateway.kintone import KintoneClient  # noqa: E402
from gateway.model import Model  # noqa: E402
from gateway.openapi import Origin, build_swagger2, own_spec, to_openapi3  # noqa: E402
from gateway.openapi.examples import ExampleRecords  # noqa: E402
from gateway.openapi.process_states import Process, ProcessStates  # noqa: E402
from gateway.sandbox import Sandbox, SandboxServer  # noqa: E402
from gateway.sandbox.demo import seed_demo  # noqa: E402
from gateway.service import load_model  # noqa: E402
from gateway.settings import AuthScheme, GatewaySettings, KintoneSettings, Secret  # noqa: E402

FILES = ("swagger2.json", "openapi3.json")
DEFAULTS = GatewaySettings()
ORIGIN = Origin("http", f"{DEFAULTS.host}:{DEFAULTS.port}", "/api.rsc")


@dataclass(frozen=True)
class Demo:
    settings: KintoneSettings  # to reach the sandbox as the demo user
    examples: ExampleRecords  # the demo's examples, read before anything changed the data


@contextmanager
def demo_sandbox() -> Iterator[Demo]:
    """A freshly seeded demo sandbox, running."""
    sandbox = Sandbox()
    info = seed_demo(sandbox)
    server = SandboxServer(sandbox).start()
    try:
        yield Demo(KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD,
                                   user=info.login, password=Secret(info.password)),
                   demo_examples(sandbox, info))
    finally:
        server.stop()


def documents(model: Model, process: Process, examples: ExampleRecords) -> dict[str, str]:
    """File name → the text it must have; ``process`` reads an app's process settings;
    ``examples`` are the records of the demo's examples."""
    processes = ProcessStates(process).of(model, model.entity_sets.values())
    swagger = build_swagger2(model, ORIGIN, own_spec(), webhooks=True, processes=processes,
                             examples=examples)
    return {name: json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
            for name, doc in zip(FILES, (swagger, to_openapi3(swagger)), strict=True)}


def main() -> None:
    with demo_sandbox() as demo, KintoneClient(demo.settings) as client:
        model = load_model(client, demo.settings)
        for name, text in documents(model, client.get_process_settings, demo.examples).items():
            (HERE / name).write_text(text, encoding="utf-8")
            print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
