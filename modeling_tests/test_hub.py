"""Tests of `xlm_swcm.hub` (push + model card) against the Hub-compatible test server `hub_server.py`.

The real clients run: `xlm-swcm-push` (as `python -m xlm_swcm.hub`) uploads with huggingface_hub, then a fresh
Python process where `xlm_swcm` cannot be imported loads the repo with transformers' `AutoModelForSeq2SeqLM`
and `trust_remote_code=True`. Both processes get a clean environment (HF_ENDPOINT / HF_HOME / HF_TOKEN are
read when huggingface_hub is imported, and conftest.py sets HF_HUB_OFFLINE=1 for this process).

Subprocesses cost seconds each (torch + transformers imports), so they are shared through one module fixture:
one push per upload protocol and one driver for the failing pushes (run at the same time), then one loader.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from hub_server import HubServer
from huggingface_hub import EvalResult, ModelCard

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
from xlm_swcm.errors import XLMSWCMError
from xlm_swcm.hub import (
    CITATION,
    PushOptions,
    build_model_card,
    build_parser,
    check_checkpoint,
    check_revision,
    explain_hub_error,
    main,
    push_to_hub,
)

SRC = Path(__file__).resolve().parents[1] / "src"
TOKEN = "hf_test_write_token"
USER = "swcm-user"
LANGUAGES = ["bo", "ug", "kk", "mn", "zh"]
INPUT_IDS = [[0, 5, 6, 7, 8, 2]]
DECODER_INPUT_IDS = [[2, 9, 10, 11]]
# A hand-written conversion report with the keys the conversion writes (values need not match the tiny model).
REPORT = {
    "source": "FacebookAI/xlm-roberta-base",
    "insert_every": 1,
    "trailing_normal_layer": False,
    "weight_sharing": "copy",
    "mapping": [
        {
            "decoder": "model.decoder.layers.0.self_attn.q_proj.weight",
            "encoder": "roberta.encoder.layer.0.attention.self.query.weight",
            "mode": "copied",
        },
        {
            "decoder": "model.decoder.layers.2.fc1.weight",
            "encoder": "roberta.encoder.layer.1.intermediate.dense.weight",
            "mode": "tied",
        },
    ],
    "random": ["model.decoder.layers.1.self_attn.q_proj.weight", "model.decoder.layers.1.fc1.weight"],
    "parameters": {
        "total": 278043648,
        "encoder": 85054464,
        "decoder": 100000000,
        "embeddings": 192989184,
        "shared_with_encoder": 7087872,
    },
    "file_size_bytes": 1112201216,
    "language_tokens": {"<ug>": 100, "<bo>": 99},  # as the conversion writes it (the card lists them by id)
}

# Run in a fresh process outside the repo: blocks `xlm_swcm` (an editable install would otherwise make it
# importable from anywhere), loads every repo given, writes logits, token ids and the model class's module.
# argv: output file, JSON [input_ids, decoder_input_ids], repo ids.
LOADER = r"""
import json, sys

class BlockXlmSwcm:
    def find_spec(self, name, path=None, target=None):
        if name == "xlm_swcm" or name.startswith("xlm_swcm."):
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, BlockXlmSwcm())
try:
    import xlm_swcm  # noqa: F401
    package_importable = True
except ImportError:
    package_importable = False

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

input_ids, decoder_input_ids = (torch.tensor(ids) for ids in json.loads(sys.argv[2]))
out = {"package_importable": package_importable, "repos": {}}
for repo in sys.argv[3:]:
    # Exactly the lines of the model card's "How to use" snippet.
    model = AutoModelForSeq2SeqLM.from_pretrained(repo, trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(repo, trust_remote_code=True)
    with torch.no_grad():
        logits = model(input_ids=input_ids, decoder_input_ids=decoder_input_ids).logits
    out["repos"][repo] = {
        "logits": logits.tolist(),
        "module": type(model).__module__,
        "training": model.training,
        "token_ids": tokenizer("abc").input_ids,
    }
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
"""

# Runs several `python -m xlm_swcm.hub ARGS` in one process (each a fresh run of the module as __main__, the
# exit code taken from its SystemExit): one torch/transformers import instead of one per scenario.
DRIVER = r"""
import contextlib, io, json, runpy, sys

results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    sys.argv = ["xlm-swcm-push", *argv]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            runpy.run_module("xlm_swcm.hub", run_name="__main__", alter_sys=True)
            rc = "no SystemExit"
        except SystemExit as exit:
            rc = exit.code
    results.append({"rc": rc, "stderr": err.getvalue()})
print(json.dumps(results))
"""


# ---------------------------------------------------------------------------------------------- helpers


def folder_digest(folder: Path) -> dict[str, tuple]:
    """Name, size, content hash and mtime of every file and folder below `folder` (hidden ones included)."""
    digest = {}
    for path in sorted(folder.rglob("*")):
        stat = path.stat()
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        digest[path.relative_to(folder).as_posix()] = (
            stat.st_size if path.is_file() else 0,
            content,
            stat.st_mtime_ns,
        )
    return digest


def client_env(hub: HubServer, home: Path, token: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment for a client process: only this test's Hub settings, no offline flags."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGING_FACE_", "TRANSFORMERS_")) and k != "PYTHONPATH"
    }
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1")
    if token:
        env["HF_TOKEN"] = token
    env.update(extra)
    return env


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["ཀ", "ཁ"]
    backend = Tokenizer(models.WordLevel({t: i for i, t in enumerate(tokens)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("xlm-swcm-push: error:")]


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hub():
    server = HubServer(tokens={TOKEN: USER}, orgs=("swcm-org",))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """Tiny XLM-SWCM checkpoint (insert_every=1, so the decoder has normal layers) + tokenizer + report."""
    folder = tmp_path_factory.mktemp("ckpt") / "xlm-swcm-tiny"
    torch.manual_seed(0)
    config = XLMSWCMConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        insert_every=1,
    )
    XLMSWCMForConditionalGeneration(config).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    (folder / "swcm_conversion.json").write_text(json.dumps(REPORT), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def local_logits(checkpoint) -> torch.Tensor:
    model = XLMSWCMForConditionalGeneration.from_pretrained(checkpoint)
    assert not model.training
    with torch.no_grad():
        return model(
            input_ids=torch.tensor(INPUT_IDS), decoder_input_ids=torch.tensor(DECODER_INPUT_IDS)
        ).logits


REGULAR_REPO, LFS_REPO = f"{USER}/tiny-regular", f"{USER}/tiny-lfs"
# Failing and special pushes, run by DRIVER: scenario -> argv after the checkpoint folder.
SCENARIOS = {
    "no_token": [f"{USER}/no-token"],
    "401": [f"{USER}/err-401", "--token", "hf_wrong_token"],
    "403": ["someone-else/not-mine", "--token", TOKEN],
    "404": [f"{USER}/err-404", "--token", TOKEN],
    "409": [f"{USER}/err-409", "--token", TOKEN],
    "412": [f"{USER}/err-412", "--token", TOKEN],
    "503": [f"{USER}/err-503", "--token", TOKEN],
    "branch": [f"{USER}/on-branch", "--revision", "dev", "--message", "to dev", "--token", TOKEN],
    # A second push to an existing repo (the server answers create_repo with 409 + url, as the Hub does).
    "first": [f"{USER}/twice", "--token", TOKEN],
    "update": [f"{USER}/twice", "--token", TOKEN, "--language", "bo", "--message", "update"],
}


@pytest.fixture(scope="module")
def clients(hub, checkpoint, tmp_path_factory):
    """Runs the client processes against `hub`, all with clean environments:

    - `push-regular`: `python -m xlm_swcm.hub` with the default client (hf_xet installed: huggingface_hub's
      streamed upload path), repo answered `regular` by the server;
    - `push-lfs`: the same with HF_HUB_DISABLE_XET=1 to a private repo answered `lfs` (LFS batch + PUT);
    - `driver`: every failing push of SCENARIOS (and a push to a new branch), without HF_TOKEN;
    - `loader`: after both pushes, loads both repos where `xlm_swcm` cannot be imported.

    The three pushes run at the same time (torch + transformers imports dominate); the server tells their
    requests apart by the `origin/` of the User-Agent (HF_HUB_USER_AGENT_ORIGIN).
    """
    work = tmp_path_factory.mktemp("clients")
    hub.reset_log()
    hub.upload_modes[LFS_REPO] = "lfs"
    hub.fail("POST", rf"^/api/models/{USER}/err-404/preupload/", 404, "Repository not found", "RepoNotFound")
    hub.fail("POST", rf"^/api/models/{USER}/err-409/commit/", 409, "A commit has happened since.")
    hub.fail(
        "POST", rf"^/api/models/{USER}/err-412/commit/", 412, "Precondition failed: parentCommit mismatch"
    )
    # On create_repo, which huggingface_hub does not retry (a 5xx on preupload or commit is retried, then
    # passes); the repo name is in the body only.
    hub.fail("POST", r"^/api/repos/create$", 503, "Service temporarily unavailable", body_regex='"err-503"')
    before = folder_digest(checkpoint)

    def start(name: str, args: list[str], token: str | None, **extra: str) -> subprocess.Popen:
        env = client_env(hub, work / f"home-{name}", token, HF_HUB_USER_AGENT_ORIGIN=name, **extra)
        out, err = (work / f"{name}.out").open("w"), (work / f"{name}.err").open("w")
        return subprocess.Popen([sys.executable, *args], env=env, cwd=work, stdout=out, stderr=err, text=True)

    def finish(name: str, proc: subprocess.Popen) -> dict:
        code = proc.wait(timeout=300)
        return {
            "rc": code,
            "stdout": (work / f"{name}.out").read_text(),
            "stderr": (work / f"{name}.err").read_text(),
        }

    push_args = ["-m", "xlm_swcm.hub", str(checkpoint)]
    languages = ["--language", ",".join(LANGUAGES)]
    procs = {
        "push-regular": start(
            "push-regular", [*push_args, REGULAR_REPO, *languages], TOKEN, PYTHONPATH=str(SRC)
        ),
        "push-lfs": start(
            "push-lfs",
            [*push_args, LFS_REPO, *languages, "--private"],
            TOKEN,
            PYTHONPATH=str(SRC),
            HF_HUB_DISABLE_XET="1",
        ),
        "driver": start(
            "driver",
            ["-c", DRIVER, json.dumps([[str(checkpoint), *argv] for argv in SCENARIOS.values()])],
            None,
            PYTHONPATH=str(SRC),
        ),
    }
    runs = {name: finish(name, procs[name]) for name in ("push-regular", "push-lfs")}
    loader = work / "loader.py"
    loader.write_text(LOADER, encoding="utf-8")
    # cwd outside the repo and no PYTHONPATH: nothing of the project is importable there.
    inputs = json.dumps([INPUT_IDS, DECODER_INPUT_IDS])
    procs["loader"] = start(
        "loader", [str(loader), str(work / "loaded.json"), inputs, REGULAR_REPO, LFS_REPO], TOKEN
    )
    runs.update({name: finish(name, procs[name]) for name in ("driver", "loader")})
    driver = runs["driver"]
    assert driver["rc"] == 0, driver["stderr"][-3000:]
    outcomes = dict(zip(SCENARIOS, json.loads(driver["stdout"].strip().splitlines()[-1]), strict=True))
    return {
        "runs": runs,
        "requests": list(hub.requests),
        "outcomes": outcomes,
        "loaded": json.loads((work / "loaded.json").read_text()) if runs["loader"]["rc"] == 0 else None,
        "loader_home": work / "home-loader",
        "before": before,
        "after": folder_digest(checkpoint),
    }


def requests_of(clients: dict, origin: str) -> list:
    return [r for r in clients["requests"] if r.origin == origin]


# ---------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("origin, repo", [("push-regular", REGULAR_REPO), ("push-lfs", LFS_REPO)])
def test_push_makes_one_commit_with_every_file(clients, hub, checkpoint, origin, repo):
    run_info = clients["runs"][origin]
    assert run_info["rc"] == 0, run_info["stderr"]
    commits = hub.commits(repo)
    assert len(commits) == 2  # the repo's initial .gitattributes commit + exactly one push commit
    requests = requests_of(clients, origin)
    assert len([r for r in requests if r.method == "POST" and r.path.endswith("/commit/main")]) == 1
    remote = hub.files(repo)
    local = {p.name: p.read_bytes() for p in checkpoint.iterdir() if p.is_file()}
    for name, content in local.items():
        assert remote[name] == content, name
    required = {"model.safetensors", "config.json", "generation_config.json", "README.md", "tokenizer.json"}
    assert required | {"configuration_xlm_swcm.py", "modeling_xlm_swcm.py"} <= set(remote)
    assert set(remote) == set(local) | {"README.md", ".gitattributes"}
    auto_map = json.loads(remote["config.json"])["auto_map"]
    assert auto_map["AutoModelForSeq2SeqLM"].startswith("modeling_xlm_swcm.")
    assert commits[-1].title == "Upload XLM-SWCM model"
    assert f"to {repo}@main" in run_info["stdout"] and "Commit: " in run_info["stdout"]


def test_no_client_asks_for_xet_or_unknown_routes(clients):
    assert {"push-regular", "push-lfs", "driver", "loader"} <= {r.origin for r in clients["requests"]}
    assert not [r.path for r in clients["requests"] if "xet" in r.path.lower()]
    assert not [r.path for r in clients["requests"] if not r.handled]


def test_upload_protocols(clients, hub):
    regular = requests_of(clients, "push-regular")
    assert not [r for r in regular if "/info/lfs/" in r.path]
    assert not any(f.is_lfs for f in hub.file_entries(REGULAR_REPO).values())

    paths = [(r.method, r.path) for r in requests_of(clients, "push-lfs")]
    assert ("POST", f"/{LFS_REPO}.git/info/lfs/objects/batch") in paths
    assert ("POST", f"/{LFS_REPO}.git/info/lfs/objects/verify") in paths
    assert ("POST", "/api/validate-yaml") in paths  # the non-xet path validates the card's metadata first
    # The presigned PUT carries no Hub headers (no origin); only the LFS repo has LFS files: one, the weights.
    assert (
        len([r for r in clients["requests"] if r.method == "PUT" and r.path.startswith("/__lfs_upload/")])
        == 1
    )
    entries = hub.file_entries(LFS_REPO)
    assert entries["model.safetensors"].is_lfs
    assert not entries["config.json"].is_lfs and not entries["modeling_xlm_swcm.py"].is_lfs
    assert hub.repos[("model", LFS_REPO)].private and not hub.repos[("model", REGULAR_REPO)].private


def test_remote_code_load_matches_local_model(clients, checkpoint, local_logits):
    loader = clients["runs"]["loader"]
    assert loader["rc"] == 0, loader["stderr"][-3000:]
    loaded = clients["loaded"]
    assert loaded["package_importable"] is False
    expected_ids = tiny_tokenizer()("abc").input_ids
    for repo in (REGULAR_REPO, LFS_REPO):
        result = loaded["repos"][repo]
        # The class comes from the repo's code files (transformers' dynamic modules), not from xlm_swcm.
        assert (
            result["module"].startswith("transformers_modules.") and "modeling_xlm_swcm" in result["module"]
        )
        assert result["training"] is False
        assert torch.equal(torch.tensor(result["logits"]), local_logits), repo
        assert result["token_ids"] == expected_ids
    # LFS files are cached under their sha256: the client took the X-Linked-Etag of the LFS answer.
    weights = (checkpoint / "model.safetensors").read_bytes()
    blobs = clients["loader_home"] / "hub" / f"models--{USER}--tiny-lfs" / "blobs"
    assert (blobs / hashlib.sha256(weights).hexdigest()).read_bytes() == weights
    resolves = [r.path for r in requests_of(clients, "loader") if "/resolve/" in r.path and r.status == 200]
    for repo in (REGULAR_REPO, LFS_REPO):
        assert any(p.startswith(f"/{repo}/") and p.endswith("/model.safetensors") for p in resolves)
        assert any(p.startswith(f"/{repo}/") and p.endswith("/modeling_xlm_swcm.py") for p in resolves)


def test_pushed_card_metadata(clients, hub):
    for repo in (REGULAR_REPO, LFS_REPO):
        text = hub.files(repo)["README.md"].decode()
        front = yaml.safe_load(text.split("---\n")[1])
        assert front == {
            "base_model": "FacebookAI/xlm-roberta-base",
            "language": LANGUAGES,  # --language wins over the report's languages
            "library_name": "transformers",
            "license": "apache-2.0",
            "pipeline_tag": "text2text-generation",
            "tags": ["xlm-swcm"],
        }
        card = ModelCard(text)
        assert card.data.language == LANGUAGES and card.data.pipeline_tag == "text2text-generation"
        assert f'AutoModelForSeq2SeqLM.from_pretrained("{repo}", trust_remote_code=True)' in card.text
        assert "| Total | 278,043,648 (278.04 M) |" in card.text
        row = "| `model.decoder.layers.2.fc1.weight` | `roberta.encoder.layer.1.intermediate.dense.weight` | tied |"
        assert row in card.text
        assert "eprint        = {2502.10852}" in card.text


def test_local_folder_not_modified_by_any_push(clients):
    assert clients["before"] == clients["after"]
    assert "README.md" not in clients["after"]  # the card only exists in the upload


# ---------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "scenario, code, expected",
    [
        ("no_token", 2, ["no Hugging Face token found", "hf auth login", "HF_TOKEN", "--token"]),
        ("401", 1, ["401 Unauthorized", "token was rejected", "hf auth login"]),
        ("403", 1, ["403 Forbidden", "'someone-else' namespace"]),
        ("404", 1, ["404", f"{USER}/err-404 was not found"]),
        ("409", 1, ["409 Conflict", "Run the command again"]),
        ("412", 1, ["412 Precondition Failed", "parent commit mismatch"]),
        ("503", 1, ["503 server error", "try again later"]),
    ],
)
def test_failed_push_explains_in_one_line(clients, hub, scenario, code, expected):
    outcome = clients["outcomes"][scenario]
    assert outcome["rc"] == code, outcome["stderr"]
    lines = error_lines(outcome["stderr"])
    assert len(lines) == 1, outcome["stderr"]
    for text in expected:
        assert text in lines[0], lines[0]
    # Nothing was committed: the repo is absent, or holds only its initial commit.
    repo = SCENARIOS[scenario][0]
    assert ("model", repo) not in hub.repos or len(hub.commits(repo)) == 1


def test_no_token_sends_nothing(clients):
    assert not [r for r in clients["requests"] if "no-token" in r.path]


def test_second_push_updates_the_repo(clients, hub):
    for scenario in ("first", "update"):
        outcome = clients["outcomes"][scenario]
        assert outcome["rc"] == 0, outcome["stderr"]
    repo_id = f"{USER}/twice"
    assert hub.repos[("model", repo_id)].resolve("main").title == "update"
    front = yaml.safe_load(hub.files(repo_id)["README.md"].decode().split("---\n")[1])
    assert front["language"] == ["bo"]


def test_push_to_new_branch(clients, hub):
    outcome = clients["outcomes"]["branch"]
    assert outcome["rc"] == 0, outcome["stderr"]
    repo_id = f"{USER}/on-branch"
    dev, main_files = hub.files(repo_id, "dev"), hub.files(repo_id, "main")
    assert "model.safetensors" in dev and "README.md" in dev
    assert set(main_files) == {".gitattributes"}  # main is untouched
    assert hub.repos[("model", repo_id)].resolve("dev").title == "to dev"


# ---------------------------------------------------------------------------------------------- local checks


def _broken(checkpoint: Path, tmp_path: Path, how: str) -> Path:
    folder = tmp_path / how
    if how == "no_folder":
        return folder
    if how == "empty":
        folder.mkdir()
        return folder
    shutil.copytree(checkpoint, folder)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    if how == "wrong_model_type":
        config["model_type"] = "bart"
    elif how == "no_auto_map":
        del config["auto_map"]
    elif how == "unloadable_config":
        config["insert_every"] = 0
    elif how == "no_weights":
        (folder / "model.safetensors").unlink()
    elif how == "corrupt_weights":
        (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    elif how == "no_modeling_code":
        (folder / "modeling_xlm_swcm.py").unlink()
    elif how == "code_imports_package":
        with open(folder / "modeling_xlm_swcm.py", "a", encoding="utf-8") as f:
            f.write("\nfrom xlm_swcm.vocab import something\n")
    elif how == "bad_report":
        (folder / "swcm_conversion.json").write_text('{"insert_every": "three"}')
    config_path.write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "how, expected",
    [
        (
            "no_folder",
            "no_folder' does not exist: pass the folder written by save_pretrained or xlm-swcm-convert",
        ),
        ("empty", "is not a model checkpoint (no config.json in it)"),
        ("wrong_model_type", "has model_type 'bart', not 'xlm-swcm'"),
        ("no_auto_map", "no auto_map entries for AutoConfig, AutoModelForSeq2SeqLM"),
        ("unloadable_config", "does not load as XLMSWCMConfig: insert_every must be an integer >= 1"),
        ("no_weights", "weights file model.safetensors is missing"),
        ("corrupt_weights", "model.safetensors is not a readable safetensors file"),
        ("no_modeling_code", "code file modeling_xlm_swcm.py is missing"),
        ("code_imports_package", "modeling_xlm_swcm.py imports the xlm_swcm package"),
        ("bad_report", "'insert_every' must be of type int"),
    ],
)
def test_invalid_checkpoint_is_refused_before_any_request(checkpoint, tmp_path, capsys, hub, how, expected):
    folder = _broken(checkpoint, tmp_path, how)
    before = folder_digest(folder) if folder.exists() else None
    hub.reset_log()
    rc = main([str(folder), f"{USER}/never", "--token", TOKEN, "--endpoint", hub.url])
    lines = error_lines(capsys.readouterr().err)
    assert rc == 2
    assert len(lines) == 1 and expected in lines[0], lines
    assert hub.requests == []
    assert (folder_digest(folder) if folder.exists() else None) == before


@pytest.mark.parametrize(
    "repo_id", ["no-namespace", "a/b/c", "alice/bad--name", "alice/ends.git", "alice/sp ace"]
)
def test_invalid_repo_id(checkpoint, capsys, hub, repo_id):
    hub.reset_log()
    rc = main([str(checkpoint), repo_id, "--token", TOKEN, "--endpoint", hub.url])
    lines = error_lines(capsys.readouterr().err)
    assert rc == 2 and len(lines) == 1
    assert f"invalid repo id {repo_id!r}" in lines[0] and "your-username/model-name" in lines[0]
    assert hub.requests == []


def test_dry_run_lists_files_and_card_and_sends_nothing(checkpoint, capsys, hub):
    before = folder_digest(checkpoint)
    hub.reset_log()
    rc = main([str(checkpoint), f"{USER}/dry", "--dry-run", "--endpoint", hub.url, "--base-model", "org/enc"])
    out = capsys.readouterr().out
    assert rc == 0
    assert hub.requests == []
    assert folder_digest(checkpoint) == before
    for path in checkpoint.iterdir():
        assert f"{path.stat().st_size:,} B" in out.split(path.name, 1)[1].splitlines()[0], path.name
    assert "README.md" in out and "base_model: org/enc" in out
    assert "--- README.md (generated model card) ---" in out and "nothing was sent" in out


def test_staging_skips_training_leftovers(checkpoint, tmp_path, capsys):
    folder = tmp_path / "trainer-output"
    shutil.copytree(checkpoint, folder)
    (folder / "optimizer.pt").write_bytes(b"x")
    (folder / "training_args.bin").write_bytes(b"x")
    (folder / "checkpoint-10").mkdir()
    (folder / "checkpoint-10" / "model.safetensors").write_bytes(b"x")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "README.md").write_text("---\nlicense: mit\n---\nTrained 3 epochs on Tibetan news.\n")
    result = push_to_hub(folder, f"{USER}/staged", dry_run=True)
    capsys.readouterr()
    assert set(result.files) == {p.name for p in checkpoint.iterdir()} | {"README.md"}
    assert "Trained 3 epochs on Tibetan news." in result.card  # the hand-written README is kept
    assert (folder / "README.md").read_text().startswith("---\nlicense: mit")


def test_push_model_object_with_tokenizer(checkpoint, capsys):
    model = XLMSWCMForConditionalGeneration.from_pretrained(checkpoint)
    result = push_to_hub(model, f"{USER}/from-object", dry_run=True, tokenizer=tiny_tokenizer())
    capsys.readouterr()
    expected = {"model.safetensors", "config.json", "generation_config.json", "README.md", "tokenizer.json"}
    assert expected | {"configuration_xlm_swcm.py", "modeling_xlm_swcm.py"} <= set(result.files)
    assert f'AutoTokenizer.from_pretrained("{USER}/from-object", trust_remote_code=True)' in result.card
    assert "## Conversion report" not in result.card  # a model object has no swcm_conversion.json


# ---------------------------------------------------------------------------------------------- model card


def test_card_with_report_overrides_and_eval_results(checkpoint):
    card = build_model_card(
        checkpoint,
        "swcm-org/xlm-swcm-bo",
        card_data={"license": "mit", "tags": ["tibetan"], "datasets": ["some/tibetan-news"]},
        eval_results=[
            {
                "task_type": "summarization",
                "dataset_type": "some/tibetan-news",
                "dataset_name": "Tibetan news",
                "dataset_split": "test",
                "metric_type": "rouge",
                "metric_name": "ROUGE-L",
                "metric_value": 31.4,
            },
            EvalResult(
                task_type="translation",
                dataset_type="x/y",
                dataset_name="Y",
                metric_type="bleu",
                metric_value=12.5,
            ),
        ],
    )
    front = yaml.safe_load(str(card).split("---\n")[1])
    assert front["license"] == "mit" and front["tags"] == ["xlm-swcm", "tibetan"]
    assert front["language"] == ["bo", "ug"]  # from the report
    assert front["datasets"] == ["some/tibetan-news"]
    results = front["model-index"][0]["results"]
    assert front["model-index"][0]["name"] == "xlm-swcm-bo"
    assert results[0]["metrics"][0] == {"type": "rouge", "value": 31.4, "name": "ROUGE-L"}
    assert "| summarization | Tibetan news | test | ROUGE-L | 31.4 |" in card.text
    assert "| translation | Y |  | bleu | 12.5 |" in card.text
    # Conversion report: X, sharing, trailing layer, sizes, mapping, random tensors.
    assert "with X = 1" in card.text and "weight sharing: `copy`" in card.text
    assert "trailing normal layer: no" in card.text and "checkpoint size 1,112,201,216 bytes" in card.text
    assert "| Embeddings | 192,989,184 (192.99 M) |" in card.text
    assert "| Decoder parameters that are the encoder's (tie mode) | 7,087,872 (7.09 M) |" in card.text
    assert "1 decoder tensors were copied from the encoder and 1 are tied to it" in card.text
    assert "- `model.decoder.layers.1.fc1.weight`" in card.text
    # Architecture from config.json: 2 encoder layers, X=1 -> 2 custom + 1 normal decoder layers.
    config = check_checkpoint(checkpoint)
    normal = config.decoder_layer_types.count("normal")
    assert f"| Decoder layers | {2 + normal} (2 custom + {normal} normal) |" in card.text
    assert CITATION in card.text


def test_card_without_report_still_renders(checkpoint, tmp_path):
    folder = tmp_path / "no-report"
    shutil.copytree(checkpoint, folder)
    (folder / "swcm_conversion.json").unlink()
    card = build_model_card(folder, f"{USER}/plain")
    front = yaml.safe_load(str(card).split("---\n")[1])
    assert front == {
        "library_name": "transformers",
        "license": "apache-2.0",
        "pipeline_tag": "text2text-generation",
        "tags": ["xlm-swcm"],
    }
    assert "## Conversion report" not in card.text and "## Evaluation results" not in card.text
    assert "**Source encoder:** not recorded" in card.text
    assert f'from_pretrained("{USER}/plain", trust_remote_code=True)' in card.text
    assert ModelCard(str(card)).data.to_dict() == front


def test_local_source_path_is_not_used_as_base_model(checkpoint, tmp_path):
    folder = tmp_path / "local-source"
    shutil.copytree(checkpoint, folder)
    report = dict(REPORT, source=str(tmp_path))  # converted from a local folder: not a Hub id
    (folder / "swcm_conversion.json").write_text(json.dumps(report))
    card = build_model_card(folder, f"{USER}/local")
    assert card.data.base_model is None
    assert "Converted from a local encoder checkpoint" in card.text and str(tmp_path) not in card.text
    card = build_model_card(folder, f"{USER}/local", card_data={"base_model": "org/enc"})  # --base-model
    assert "built from [`org/enc`](https://huggingface.co/org/enc)" in card.text
    assert "**Source encoder:** org/enc" in card.text and str(tmp_path) not in card.text


def test_card_says_a_fresh_seed_is_untrained(checkpoint, tmp_path):
    assert "This is an untrained seed checkpoint" in build_model_card(checkpoint, f"{USER}/seed").text
    trained = tmp_path / "trained"
    shutil.copytree(checkpoint, trained)
    (trained / "trainer_state.json").write_text("{}")  # what a Trainer leaves next to the weights
    assert "untrained" not in build_model_card(trained, f"{USER}/trained").text


@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("--license", "my-license", "unknown license 'my-license'"),
        ("--license", "Apache-2.0", "did you mean apache-2.0"),
        ("--language", "Tibetan,ug", "invalid language code 'Tibetan' (did you mean 'bo'?)"),
        ("--language", "bo,xx_YY", "invalid language code 'xx_YY' (BCP 47 separates subtags with '-'"),
        ("--language", "qqq", "invalid language code 'qqq'"),
        ("--base-model", "./src4", "--base-model './src4' is not a Hub model id"),
    ],
)
def test_card_metadata_is_validated_before_anything(checkpoint, capsys, hub, option, value, expected):
    hub.reset_log()
    rc = main([str(checkpoint), f"{USER}/meta", option, value, "--dry-run", "--endpoint", hub.url])
    lines = error_lines(capsys.readouterr().err)
    assert rc == 2 and len(lines) == 1 and expected in lines[0], lines
    assert hub.requests == []


def test_conversion_language_tokens_that_are_no_iso_codes(checkpoint, tmp_path, capsys, hub):
    """--add-language-tokens takes any code; the Hub refuses a card whose `language` is not ISO 639 (and with it
    the whole commit): refused before any request, with the way out (--language)."""
    folder = Path(shutil.copytree(checkpoint, tmp_path / "ckpt"))
    report = {**REPORT, "language_tokens": {"<english>": 99, "<ug>": 100}}
    (folder / "swcm_conversion.json").write_text(json.dumps(report), encoding="utf-8")
    hub.reset_log()
    push = [str(folder), f"{USER}/langs", "--token", TOKEN, "--endpoint", hub.url, "--dry-run"]
    assert main(push) == 2
    lines = error_lines(capsys.readouterr().err)
    expected = (
        "--language (default: the conversion's language tokens <english>, <ug>): invalid language code "
    )
    assert len(lines) == 1 and expected + "'english' (did you mean 'en'?)" in lines[0], lines
    assert main([*push, "--language", "en,ug"]) == 0
    assert "language:\n- en\n- ug\n" in capsys.readouterr().out
    assert hub.requests == []


@pytest.mark.parametrize(
    "card_data, expected",
    [
        (
            {"language": ["bo", "english"]},
            "card_data['language']: invalid language code 'english' (did you mean 'en'?)",
        ),
        (
            {"language": "bo, Tibetan"},
            "card_data['language']: invalid language code 'Tibetan' (did you mean 'bo'?)",
        ),
        ({"license": "Apache-2.0"}, "unknown license 'Apache-2.0' (did you mean apache-2.0"),
    ],
)
def test_python_api_checks_card_data_before_any_request(checkpoint, hub, card_data, expected):
    """push_to_hub from Python gets the command's checks: a card the Hub would refuse costs no request."""
    hub.reset_log()
    with pytest.raises(XLMSWCMError) as error:
        push_to_hub(checkpoint, f"{USER}/api", token=TOKEN, endpoint=hub.url, card_data=card_data)
    assert expected in str(error.value) and hub.requests == []
    card = push_to_hub(
        checkpoint, f"{USER}/api", dry_run=True, card_data={"language": "bo, ug", "license": None}
    )
    assert "language:\n- bo\n- ug\n" in card.card and "license:" not in card.card


BRANCH_NAMES = ["dev", "v1.0/bo", "refs/pr/1", "ä-branch", "bad..name", "a b", "-x", "x/", "/x", "a//b", "x.lock",
                "x.lock/y", "a/.b", "a.", "a@{b", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b", "a\tb", "HEAD"]  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference for branch names")
def test_revision_check_agrees_with_git():
    for name in BRANCH_NAMES:
        git = (
            subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True).returncode == 0
        )
        try:
            ours = check_revision(name) == name
        except XLMSWCMError:
            ours = False
        assert ours == git, name


@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("--revision", "bad..name", "invalid revision 'bad..name': give a branch name such as dev"),
        (
            "--endpoint",
            "not a url",
            "invalid endpoint 'not a url': give the Hub's URL, such as https://huggingface.co",
        ),
        ("--endpoint", "ftp://hub.example", "invalid endpoint 'ftp://hub.example'"),
    ],
)
def test_dry_run_checks_revision_and_endpoint(checkpoint, capsys, option, value, expected):
    rc = main([str(checkpoint), f"{USER}/where", option, value, "--dry-run"])
    lines = error_lines(capsys.readouterr().err)
    assert rc == 2 and len(lines) == 1 and expected in lines[0], lines


def test_valid_card_metadata_passes(checkpoint, capsys):
    rc = main([str(checkpoint), f"{USER}/meta", "--language", "bo,ug,kk,mn,zh-Hans,chm,multilingual",
               "--license", "cc-by-sa-4.0", "--dry-run"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err


def test_command_line_gives_push_options_in_either_spelling(capsys):
    expected = PushOptions(
        "ckpt", f"{USER}/r", private=True, revision="dev", message="m", token="t", endpoint="http://hub",
        dry_run=True, language="bo,ug", base_model="org/enc", license="mit", eval_results="scores.json",
    )  # fmt: skip
    common = ["--private", "--revision", "dev", "--message", "m", "--token", "t", "--endpoint", "http://hub"]
    common += ["--language", "bo,ug", "--license", "mit"]
    where = ["ckpt", f"{USER}/r"]
    hyphens = [*where, *common, *"--dry-run --base-model org/enc --eval-results scores.json".split()]
    underscores = [*"--dry_run --base_model=org/enc --eval_results scores.json".split(), *common, *where]
    parser = build_parser()
    assert parser.parse(hyphens) == parser.parse(underscores) == expected
    assert parser.parse(where) == PushOptions(*where)  # the defaults
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exit.value.code == 0 and "Exit codes: 0 done" in text
    assert "usage: xlm-swcm-push [options] FOLDER REPO_ID" in text
    assert "--dry-run, --dry_run print the files and the card" in text
    assert "--base-model BASE_MODEL, --base_model BASE_MODEL Hub id (owner/name)" in text
    assert "--eval-results FILE, --eval_results FILE JSON file" in text
    assert "--private create the repository as private --revision" in text


def test_eval_results_file_goes_into_the_card(checkpoint, tmp_path, capsys, hub):
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps([{"task_type": "translation", "dataset_type": "x/y", "dataset_name": "Y",
                                   "metric_type": "chrf", "metric_value": 41.5}]))  # fmt: skip
    (tmp_path / "dict.json").write_text("{}")
    (tmp_path / "lines.json").write_text('{"task_type": "translation"}\n{"task_type": "translation"}\n')
    push = [str(checkpoint), f"{USER}/scored", "--dry-run", "--endpoint", hub.url]
    hub.reset_log()
    assert main([*push, "--eval_results", str(scores)]) == 0
    assert "| translation | Y |  | chrf | 41.5 |" in capsys.readouterr().out
    for name, expected in [
        ("missing.json", "cannot read --eval-results"),
        (
            "dict.json",
            "must hold a JSON list, not a dict: give a JSON list of evaluation results (huggingface_hub",
        ),
        (
            "lines.json",
            "is not JSON (Extra data: line 2 column 1 (char 29)): give a JSON list of evaluation results",
        ),
    ]:
        assert main([*push, "--eval-results", str(tmp_path / name)]) == 2
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and expected in lines[0] and name in lines[0], lines
    assert hub.requests == []


def test_conversion_report_has_the_schema_the_card_reads(tmp_path):
    """The report that `convert` writes is the one `hub` reads: its keys are in REPORT_SCHEMA, it passes
    `check_report`, and its language tokens become the card's languages."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xlm_swcm.conversion import ConvertOptions, convert
    from xlm_swcm.report import REPORT_SCHEMA, check_report

    source = tmp_path / "src"
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=37, max_position_embeddings=64)  # fmt: skip
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(source)
    tiny_tokenizer().save_pretrained(source)
    report = convert(
        ConvertOptions(source, tmp_path / "seed", add_language_tokens="ug,bo"), log=lambda *_: None
    )
    written = json.loads((tmp_path / "seed" / "swcm_conversion.json").read_text())
    assert written == json.loads(json.dumps(report))
    assert set(written) <= set(REPORT_SCHEMA) and check_report(written) == []
    card = build_model_card(tmp_path / "seed", f"{USER}/converted")
    assert card.data.language == ["ug", "bo"]
    assert "This is an untrained seed checkpoint" in card.text


def test_transport_errors_get_a_hint():
    where = {"repo_id": f"{USER}/m", "endpoint": "http://127.0.0.1:9", "revision": "main"}
    refused = explain_hub_error(ConnectionRefusedError("[Errno 111] Connection refused"), **where)
    assert refused == (
        "push to http://127.0.0.1:9 failed: ConnectionRefusedError: [Errno 111] Connection refused "
        "(is the endpoint reachable? check --endpoint / HF_ENDPOINT and your network)"
    )
    # What hf_xet raises when the endpoint has no xet token route (seen against hub_server.py in LFS mode).
    xet = ConnectionError(
        "Network error: HTTP status client error (404 Not Found), url: .../xet-write-token/main"
    )
    assert explain_hub_error(xet, **where).endswith("set HF_HUB_DISABLE_XET=1)")
