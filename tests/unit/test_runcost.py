"""RUN cost estimates from what a RUN does (layerlens/cache/runcost.py)."""

from __future__ import annotations

import pytest

from layerlens.cache import runcost as rc
from layerlens.cache.costs import DEFAULT_RUN_SECONDS, estimate
from layerlens.cache.ops import build_plan
from layerlens.dockerfile import parse


def _run(body: str) -> rc.RunEstimate | None:
    df = parse(f"FROM scratch\nRUN {body}\n")
    return rc.estimate_run(df.instructions[1])


def test_trivial_commands_cost_the_step_overhead_only() -> None:
    got = _run("mkdir -p /app && chmod 755 /app && echo hi > /app/x")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + 3 * rc.TRIVIAL_SECONDS)
    assert "trivial" in got.basis and "mkdir" in got.basis


def test_apache_module_switches_are_trivial() -> None:
    # FreshRSS: seven a2enmod/a2dismod calls were seven unknown commands, 140 s
    got = _run("a2dismod -q -f alias autoindex negotiation status && a2enmod -q deflate "
               "expires headers mime remoteip setenvif && a2disconf -q '*' "
               "&& a2dissite -q '*' && a2ensite -q FreshRSS && a2enconf -q x")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + 6 * rc.TRIVIAL_SECONDS)


@pytest.mark.parametrize("body", ["pwd", "strip /usr/local/bin/app", "rustc --version",
                                  "node -v", "go version", "java -version"])
def test_version_queries_pwd_and_strip_are_trivial(body: str) -> None:
    # conductor's `RUN pwd` cost 20 s of every rebuild as an unknown command, and
    # `rustc --version` 120 s as a compile (found by the expert-rewrite benchmark)
    got = _run(body)
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.TRIVIAL_SECONDS)


def test_a_version_flag_beside_work_is_not_a_query() -> None:
    got = _run("cargo build --release -v")
    assert got is not None
    assert got.seconds >= rc.COMPILE_SECONDS


def test_package_install_counts_named_packages() -> None:
    got = _run("apt-get update && apt-get install -y --no-install-recommends curl git "
               "&& rm -rf /var/lib/apt/lists/*")
    assert got is not None
    want = (rc.RUN_OVERHEAD_SECONDS + rc.INDEX_REFRESH_SECONDS + rc.OS_INSTALL_SECONDS
            + 2 * rc.OS_PER_PACKAGE_SECONDS + rc.TRIVIAL_SECONDS)
    assert got.seconds == pytest.approx(want)
    assert "OS packages (2 named)" in got.basis and "index refresh" in got.basis


def test_ordering_between_classes() -> None:
    echo = _run("echo done")
    pip_named = _run("pip install --no-cache-dir flask==3.0.0")
    npm_ci = _run("npm ci")
    pip_req = _run("pip install -r requirements.txt")
    build = _run("npm run build")
    fetch = _run("curl -fsSL https://example.com/x.tgz -o /tmp/x.tgz")
    assert echo and pip_named and npm_ci and pip_req and build and fetch
    assert echo.seconds < fetch.seconds < pip_named.seconds < npm_ci.seconds < build.seconds
    assert pip_req.seconds == npm_ci.seconds  # both install what a manifest names
    assert "manifest" in npm_ci.basis and "compile" in build.basis


def test_sleep_and_busybox_applets_and_exec_form() -> None:
    got = _run("busybox sleep 3")
    assert got is not None and got.seconds == pytest.approx(3 + rc.RUN_OVERHEAD_SECONDS)
    df = parse('FROM scratch\nRUN ["/bin/busybox", "sleep", "2"]\n')
    got = rc.estimate_run(df.instructions[1])
    assert got is not None and got.seconds == pytest.approx(2 + rc.RUN_OVERHEAD_SECONDS)


def test_unknown_script_keeps_the_flat_default_per_command() -> None:
    got = _run("./scripts/build-everything.sh")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.UNKNOWN_COMMAND_SECONDS)


def test_estimate_marks_the_source_and_basis() -> None:
    df = parse("FROM scratch\nRUN go build -o /app ./cmd/app\nWORKDIR /w\n")
    ops = {op.instruction: op for sp in build_plan(df).stages for op in sp.ops}
    cost = estimate(ops[1], None, df.instructions[1])
    assert cost.seconds_source == "estimate"
    assert cost.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.COMPILE_SECONDS)
    assert cost.seconds_basis is not None and cost.seconds_basis.startswith("RUN model")
    flat = estimate(ops[1], None)  # no instruction: the documented flat default
    assert flat.seconds == DEFAULT_RUN_SECONDS and "cannot read" in (flat.seconds_basis or "")
    assert "WORKDIR" in (estimate(ops[2], None).seconds_basis or "")


def test_npm_run_compiles_only_when_the_script_says_so() -> None:
    build = _run("npm run build:prod")
    sbom = _run("npm run sbom")
    assert build and sbom and "compile" in build.basis and "other" in sbom.basis
    assert sbom.seconds < build.seconds


def test_a_package_named_with_a_variable_is_still_one_named_package() -> None:
    got = _run("npm install -g @cyclonedx/cyclonedx-npm@$CYCLONEDX_NPM_VERSION")
    assert got is not None and "language packages (1 named)" in got.basis


def test_kuards_runs() -> None:
    # kuard's Dockerfile: a line-ending fix is trivial, `go get` downloads named packages
    fix = _run("dos2unix build/build.sh")
    assert fix is not None and fix.seconds == pytest.approx(
        rc.RUN_OVERHEAD_SECONDS + rc.TRIVIAL_SECONDS)
    get = _run("go get -u github.com/jteeuwen/go-bindata/...")
    assert get is not None and "language packages (1 named)" in get.basis
    assert get.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.LANG_NAMED_SECONDS
                                        + rc.LANG_PER_PACKAGE_SECONDS)


@pytest.mark.parametrize(("body", "eco"), [
    ("CGO_ENABLED=0 go build -o /out/app ./cmd/app", "go"),
    ("mvn -B package -DskipTests", "maven"),
    ("./gradlew installDist", "gradle"),
    ("cargo build --release --locked", "cargo"),
])
def test_a_build_that_downloads_splits_its_price(body, eco) -> None:
    got = _run(body)
    assert got is not None and got.download == ((eco, rc.DEPENDENCY_DOWNLOAD_SECONDS[eco]),)
    # the split keeps the compile class's total: no build got dearer
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.COMPILE_SECONDS)
    assert f"{eco} dependency download" in got.basis


@pytest.mark.parametrize(("body", "eco"), [
    ("go mod download", "go"), ("mvn -B dependency:go-offline", "maven"),
    ("gradle dependencies --no-daemon", "gradle"), ("cargo fetch --locked", "cargo"),
])
def test_a_prefetch_costs_the_download_part(body, eco) -> None:
    got = _run(body)
    assert got is not None and got.prefetches == frozenset({eco}) and not got.download
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS
                                        + rc.DEPENDENCY_DOWNLOAD_SECONDS[eco])


def test_prefetch_and_build_in_one_run_download_once() -> None:
    got = _run("go mod download && go build -o /app .")
    assert got is not None and not got.download
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.COMPILE_SECONDS)


def test_not_builds_that_download_from_manifests() -> None:
    named = _run("go install golang.org/x/tools/cmd/goimports@latest")
    moved = _run("cd cmd && go build .")  # another directory: maybe other manifests
    vet = _run("go vet ./...")
    assert named and not named.download and moved and not moved.download
    assert vet and not vet.download


def _priced(text: str, rebuilt_from: str, df=None, inputs=None, read=None) -> float:
    """Seconds of one replayed build of `text` that rebuilt every op from the line
    starting with `rebuilt_from` onwards (the cache kept the ones before)."""
    from layerlens.cache.costs import summarize
    from layerlens.cache.replay import CommitReplay, ReplayResult
    from layerlens.cache.timeline import op_costs

    df = df if df is not None else parse(text)
    plan = build_plan(df)
    ops = [op for sp in plan.stages for op in sp.ops]
    first = next(k for k, op in enumerate(ops)
                 if df.instructions[op.instruction].original.startswith(rebuilt_from))
    result = ReplayResult((CommitReplay("b" * 40, 1, (), tuple(ops[first:]), ()),),
                          "a" * 40, plan)
    costs = op_costs(plan, inputs or {}, {}, df=df, read=read)
    return summarize(result, costs, plan=plan).commits[0].rebuild_seconds


GO_PREFETCHED = ("FROM scratch AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\n"
                 "RUN go mod download\nCOPY . .\nRUN go build -o /app .\n"
                 "FROM scratch\nCOPY --from=build /app /app\n")


def test_a_source_edit_after_a_prefetch_costs_the_compile_only() -> None:
    edit = _priced(GO_PREFETCHED, "COPY . .")
    manifests = _priced(GO_PREFETCHED, "COPY go.mod")
    plain = _priced(GO_PREFETCHED.replace("COPY go.mod go.sum ./\nRUN go mod download\n", ""),
                    "COPY . .")
    compile_only = rc.COMPILE_SECONDS - rc.DEPENDENCY_DOWNLOAD_SECONDS["go"]
    assert plain - edit == pytest.approx(rc.DEPENDENCY_DOWNLOAD_SECONDS["go"])
    # a manifest change reruns the prefetch and pays the download there, once
    assert manifests - edit == pytest.approx(rc.DEPENDENCY_DOWNLOAD_SECONDS["go"]
                                             + rc.RUN_OVERHEAD_SECONDS + _copy_base())
    assert edit > compile_only


def _copy_base() -> float:
    from layerlens.cache.costs import COPY_BASE_SECONDS
    return COPY_BASE_SECONDS


def test_a_prefetch_elsewhere_drops_nothing() -> None:
    other_dir = GO_PREFETCHED.replace("RUN go build", "WORKDIR /src/cmd\nRUN go build")
    other_eco = GO_PREFETCHED.replace("go mod download", "cargo fetch")
    for text, prefetch in ((other_dir, "RUN go mod download\n"),
                           (other_eco, "RUN cargo fetch\n")):
        assert _priced(text, "COPY . .") == pytest.approx(
            _priced(text.replace(prefetch, ""), "COPY . ."))
    assert _priced(GO_PREFETCHED, "COPY . .") < _priced(
        GO_PREFETCHED.replace("RUN go mod download\n", ""), "COPY . .")


def _priced_ctx(tmp_path, text: str, files: dict[str, str], rebuilt_from: str,
                read: bool = True) -> float:
    """As `_priced`, with a build context on disk whose scripts and Makefiles the RUN model
    follows through the Analysis' reader (runmodel/follow.py)."""
    from layerlens.analysis import AnalyzeOptions, analyze_static

    tmp_path.mkdir(parents=True, exist_ok=True)
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    (tmp_path / "Dockerfile").write_text(text)
    a = analyze_static(AnalyzeOptions(tmp_path / "Dockerfile"))
    return _priced(text, rebuilt_from, a.dockerfile, a.inputs, a.context_file if read else None)


def test_a_build_inside_make_is_priced_and_dropped_after_a_prefetch(tmp_path) -> None:
    text = GO_PREFETCHED.replace("RUN go build -o /app .", "RUN make")
    files = {"Makefile": "all:\n\tgo build -o /app .\n", "go.mod": "module x\n", "go.sum": ""}
    plain = text.replace("COPY go.mod go.sum ./\nRUN go mod download\n", "")
    inside = _priced_ctx(tmp_path / "a", plain, files, "COPY . .")
    unread = _priced_ctx(tmp_path / "b", plain, files, "COPY . .", read=False)
    # `make` alone is a compile; followed, it is the `go build` in the recipe, download
    # included, and a prefetch layer before the broad COPY drops that download
    assert inside == pytest.approx(unread)
    prefetched = _priced_ctx(tmp_path / "c", text, files, "COPY . .")
    assert inside - prefetched == pytest.approx(rc.DEPENDENCY_DOWNLOAD_SECONDS["go"])
    assert _priced_ctx(tmp_path / "d", text, files, "COPY . .", read=False) == \
        pytest.approx(unread)  # unfollowed: nothing to drop


def test_a_script_is_priced_by_its_commands(tmp_path) -> None:
    base = "FROM scratch\nWORKDIR /src\nCOPY . .\nRUN ./build.sh\n"
    script = "#!/bin/sh\nset -e\n(\n  cd web\n  npm ci\n)\ngo build -o /app .\n"
    secs = _priced_ctx(tmp_path / "a", base, {"build.sh": script}, "RUN")
    assert secs == pytest.approx(rc.RUN_OVERHEAD_SECONDS + 2 * rc.TRIVIAL_SECONDS
                                 + rc.LANG_MANIFEST_SECONDS + rc.COMPILE_SECONDS)
    unknown = _priced_ctx(tmp_path / "b", base, {}, "RUN")
    assert unknown == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.UNKNOWN_COMMAND_SECONDS)


def test_a_cd_inside_a_followed_script_moves_only_what_follows_it() -> None:
    from layerlens.runmodel.follow import Followed
    from layerlens.runmodel.shell import parse_script

    ins = parse("FROM scratch\nRUN ./b.sh\n").instructions[1]

    def download(script: str, directory: str | None = None):
        f = Followed(0, "b.sh", "b.sh", (parse_script(script),), directory=directory)
        got = rc.estimate_run(ins, (f,))
        assert got is not None and "in b.sh" in got.basis
        return got.download

    assert download("(cd web && npm ci)\ngo build .\n") == (("go", 60.0),)
    assert download("cd cmd\ngo build .\n") == ()  # other manifests, maybe
    assert download("go build .\n", directory="sub") == ()  # `make -C sub`


def test_go_generate_is_an_unknown_command_not_a_compile() -> None:
    # kuard's build.sh runs `go generate` before `go install`: a 120 s compile each was
    # double counting
    got = _run("go generate ./...")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.UNKNOWN_COMMAND_SECONDS)
