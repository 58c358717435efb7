"""jobflow-remote path: embedded Mongo-API store, project templates, submission and a real Runner.

The end-to-end test submits real flows to a project whose queue and job store are
:class:`~nasicon_workflows.remote.LiteMongoStore` directories under ``tmp_path``, runs them with
jobflow-remote's own ``Runner`` and a local shell worker (each job runs in its own ``jf execution
run`` process), and checks the outputs read back against Table S2 of Zuo et al. 2026.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("jobflow_remote")
pytest.importorskip("litemongo")

from jobflow import job  # noqa: E402
from monty.json import MontyDecoder  # noqa: E402

from nasicon_workflows.bvse import compute_bvse  # noqa: E402
from nasicon_workflows.composition import NasiconComposition  # noqa: E402
from nasicon_workflows.datasets import load_synthesis_dataset  # noqa: E402
from nasicon_workflows.descriptors import compute_descriptors  # noqa: E402
from nasicon_workflows.errors import NasiconWorkflowsError  # noqa: E402
from nasicon_workflows.remote import (  # noqa: E402
    LiteMongoStore,
    ProjectTemplateError,
    RemoteError,
    RemoteSetupError,
    RemoteTimeoutError,
    check_flow,
    default_template_values,
    flow_results,
    initialise_queue,
    render_project,
    run_jobs,
    submit_screen,
    write_project,
)
from nasicon_workflows.screen.flow import ScreeningFlowMaker  # noqa: E402

MONGODB_VALUES = dict(
    mongo_host="db.example.org", mongo_port=27017, mongo_database="nasicon",
    hpc_host="login.example.org", hpc_user="me", hpc_work_dir="/scratch/me/nasicon",
    hpc_venv="/home/me/venv", slurm_partition="standard", slurm_account="alloc42",
)


@pytest.fixture
def jfr_env(tmp_path, monkeypatch):
    """An isolated jobflow-remote settings folder under tmp_path (never the user's ~/.jfremote)."""
    import jobflow_remote
    from jobflow_remote.config.settings import JobflowRemoteSettings

    projects = tmp_path / "projects"
    monkeypatch.setenv("JFREMOTE_PROJECTS_FOLDER", str(projects))
    monkeypatch.setenv("JFREMOTE_CONFIG_FILE", str(tmp_path / "no-config.yaml"))
    monkeypatch.setenv("JFREMOTE_PROJECT", "nasicon_test")
    # SETTINGS is read once at import; the job processes read the environment set above.
    monkeypatch.setattr(jobflow_remote, "SETTINGS", JobflowRemoteSettings())
    return tmp_path


# ------------------------------------------------------------------------------ LiteMongoStore


def test_litemongo_store_is_a_mongostore_shared_between_connections(tmp_path):
    from maggma.stores import MongoStore
    from monty.json import MontyDecoder

    writer = LiteMongoStore(tmp_path / "db", database="d", collection_name="c", key="task_id")
    assert isinstance(writer, MongoStore)  # what jobflow-remote 1.0 demands of a queue store
    writer.connect()
    writer.update([{"task_id": i, "x": {"y": i * i}} for i in range(5)])

    # A second store object (as another process would build from the project file) sees the data.
    clone = MontyDecoder().process_decoded(writer.as_dict())
    assert clone == writer and hash(clone) == hash(writer)
    clone.connect()
    assert clone.count() == 5
    assert clone.query_one({"x.y": 9})["task_id"] == 3  # dotted keys work (MontyStore's failure)
    assert sorted(clone.distinct("task_id", {"x.y": {"$gt": 3}})) == [2, 3, 4]
    clone.update({"task_id": 3, "x": {"y": -1}})  # replace by key, not insert
    writer.connect(force_reset=True)
    assert writer.count() == 5 and writer.query_one({"task_id": 3})["x"]["y"] == -1
    assert writer.name.startswith("litemongo://") and writer.name.endswith("/d/c")
    writer.close()
    writer.close()  # closing twice (as jobflow-remote's runner cleanup does) is harmless
    assert LiteMongoStore(tmp_path / "db", "d", "other") != writer


# ------------------------------------------------------------------------------ templates


def test_embedded_template_is_a_valid_project_with_local_shell_worker(tmp_path):
    from jobflow_remote.config.base import Project

    config = render_project("embedded", **default_template_values("demo", tmp_path / "p"))
    project = Project.model_validate(config)
    assert project.workers["local"].scheduler_type == "shell"
    assert project.workers["local"].work_dir.is_absolute()
    store = project.get_queue_store()
    assert isinstance(store, LiteMongoStore) and store.path == str(tmp_path / "p" / "db")
    assert isinstance(project.get_jobstore().docs_store, LiteMongoStore)


def test_mongodb_template_gives_slurm_and_local_workers_on_mongodb(tmp_path):
    from jobflow_remote.config.base import Project
    from maggma.stores import GridFSStore, MongoStore

    values = {**default_template_values("prod", tmp_path / "p"), **MONGODB_VALUES}
    project = Project.model_validate(render_project("mongodb", **values))
    assert set(project.workers) == {"hpc", "local"}
    queue = project.get_queue_store()
    assert type(queue) is MongoStore and (queue.host, queue.port) == ("db.example.org", 27017)
    jobstore = project.get_jobstore()
    assert isinstance(jobstore.additional_stores["data"], GridFSStore)
    # The SLURM header qtoolkit writes for a job carries the template's resources.
    hpc = project.workers["hpc"]
    script = hpc.get_scheduler_io().get_submission_script(["echo run"], hpc.resources)
    for line in ("#SBATCH --partition=standard", "#SBATCH --account=alloc42",
                 "#SBATCH --ntasks-per-node=32", "#SBATCH --time=04:00:00"):
        assert line in script
    assert "source /home/me/venv/bin/activate" in hpc.pre_run
    assert project.exec_config["vasp"].modules == ["vasp/6.4.3"]


def test_template_errors_name_the_problem(tmp_path):
    needs = r"needs values for \['hpc_host'.*'slurm_partition'\]"
    with pytest.raises(ProjectTemplateError, match=needs):
        render_project("mongodb", **default_template_values("x", tmp_path))
    with pytest.raises(ProjectTemplateError, match="not found.*'embedded'"):
        render_project("nonexistent-template")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: ${name}\nqueue: [unclosed\n")
    with pytest.raises(ProjectTemplateError, match="not valid YAML"):
        render_project(bad, name="x")
    relative = tmp_path / "relative.yaml"
    relative.write_text(
        "name: x\nworkers:\n  w:\n    type: local\n    scheduler_type: shell\n"
        "    work_dir: not/absolute\nqueue:\n  store:\n    type: MongoStore\n"
        "    database: d\n    collection_name: jobs\n"
    )
    invalid = r"relative.yaml is not a valid.*work_dir.*absolute"
    with pytest.raises(ProjectTemplateError, match=invalid):
        render_project(relative)
    assert issubclass(ProjectTemplateError, NasiconWorkflowsError)


def test_write_project_refuses_to_overwrite_and_initialises_once(jfr_env):
    path = write_project("nasicon_test", base_dir=jfr_env / "proj")
    assert path == jfr_env / "projects" / "nasicon_test.yaml" and path.is_file()
    assert initialise_queue("nasicon_test") is False  # already initialised by write_project
    with pytest.raises(ProjectTemplateError, match="exists; pass overwrite=True"):
        write_project("nasicon_test", base_dir=jfr_env / "proj")
    write_project("nasicon_test", base_dir=jfr_env / "proj", overwrite=True)


def test_submission_errors_are_typed(jfr_env):
    flow = check_flow(["Na3Zr2Si2PO12"])
    with pytest.raises(RemoteSetupError, match="project nowhere is not available.*write_project"):
        submit_screen(flow, project="nowhere")
    write_project("nasicon_test", base_dir=jfr_env / "proj")
    with pytest.raises(RemoteSetupError, match=r"worker 'gpu' is not defined.*\['local'\]"):
        submit_screen(flow, worker="gpu")
    with pytest.raises(RemoteSetupError, match="exec_config 'vasp' is not defined"):
        submit_screen(flow, exec_config="vasp")
    with pytest.raises(TypeError, match="expected a jobflow Maker, Flow or Job, got str"):
        submit_screen("Na3Zr2Si2PO12")
    with pytest.raises(RemoteError, match="no job of flow not-a-uuid"):
        flow_results("not-a-uuid")


# ------------------------------------------------------------------------------ the real runner


class _Recording:
    """A Maker wrapper that keeps the flow it made (submit_screen returns only the db_ids)."""

    def __init__(self, maker):
        self.maker = maker

    def make(self, compositions=None, **kwargs):
        self.flow = self.maker.make(compositions, **kwargs)
        return self.flow


@pytest.mark.slow
def test_runner_runs_submitted_flows_and_outputs_are_read_back(jfr_env):
    """Submit, interrupt the runner, restart it, read back: Table S2 values, a typed failure and
    a whole screen whose gate adds jobs at run time."""
    write_project("nasicon_test", base_dir=jfr_env / "proj")
    table = load_synthesis_dataset().set_index("composition")
    formulas = list(table.index[[0, 10, 30]])
    good = check_flow(formulas)
    assert len(submit_screen(good, worker="local", resources={})) == 2
    # One job on its own (a library function as a job), with an invalid formula.
    lone = job(compute_descriptors)("Na3Qq2Si2PO12", "paper")
    submit_screen(lone)
    screen = _Recording(ScreeningFlowMaker(top=1, orderings=1, relax="none", max_atoms=100,
                                           bvse_resolution=0.5, threshold=0.5))
    submit_screen(screen, ["Na3.5Zr1.5Sc0.5Si2PO12", "Na3Zr2Si2PO12"])

    # A runner stopped while jobs are in flight loses nothing: a second runner finishes them.
    with pytest.raises(RemoteTimeoutError, match="still running after 0 s"):
        run_jobs(max_seconds=0.01)
    run_jobs(max_seconds=480)

    results = {r.name: r for r in flow_results(good.uuid)}
    assert {r.state for r in results.values()} == {"COMPLETED"}
    rows = results["descriptors"].output
    assert [r["composition"] for r in rows] == [
        NasiconComposition.from_formula(f).formula for f in formulas
    ]
    for formula, row in zip(formulas, rows):
        for column in ("ionic_radius_pm", "electronegativity", "valence"):
            assert row[column] == pytest.approx(table.loc[formula, column], abs=0.006)
    summary = results["summary"].output
    assert summary["n_compositions"] == 3
    assert summary["mean_ionic_radius_pm"] == pytest.approx(
        table.loc[formulas, "ionic_radius_pm"].mean(), abs=0.006
    )
    assert math.isfinite(summary["mean_entropy_R"])

    # The invalid formula fails on the worker with the library's own message.
    (failed,) = flow_results(lone.uuid)
    assert failed.state == "FAILED" and failed.output is None
    assert "Unknown element 'Qq'" in failed.error and "UnknownElementError" in failed.error

    # The screen: every job, including those the gate added at run time, completed.
    jobs = flow_results(screen.flow.uuid)
    assert {j.state for j in jobs} == {"COMPLETED"}, [(j.name, j.state, j.error) for j in jobs]
    by_name = {j.name: j for j in jobs}
    assert len(jobs) > len(screen.flow.jobs)  # the gate's replace added the candidate's jobs
    result = by_name["screen aggregate"].output
    decisions = {r["composition"]: r for r in result["scored"]}
    assert decisions["Na3.5Zr1.5Sc0.5Si2PO12"]["selected"]
    # Na3Zr2Si2PO12 has zero M-site entropy, below every training row: gated out with the reason.
    assert not decisions["Na3Zr2Si2PO12"]["selected"]
    assert "applicability domain" in decisions["Na3Zr2Si2PO12"]["reason"]
    (ranked,) = result["ranking"]
    # The ranked barrier is the BVSE of the ordered cell that the configurations job produced,
    # recomputed here; the ranking names the job that computed it.
    bvse_job = next(j for j in jobs if j.name.startswith("screen bvse") and "#0]" in j.name)
    assert ranked["bvse_jobs"] == bvse_job.uuid
    structures = next(j for j in jobs if j.name.startswith("screen structures")).output
    cell = MontyDecoder().process_decoded(structures["structures"][0])
    direct = compute_bvse(cell, resolution=0.5)
    assert ranked["barrier_3D_mean_eV"] == pytest.approx(direct.E_3D, abs=1e-9)


# ------------------------------------------------------------------------------ the executor


def test_executor_runs_jobs_as_jf_does_with_their_environment(jfr_env):
    """Jobs started through the preloaded executor: outputs of Table S2, the typed failure of a
    bad formula read back from the worker, an ``exec_config`` export seen by the job, standard
    streams in the job's queue files, and no executor left behind."""
    import os

    from nasicon_workflows.remote.executor import executor_socket

    path = write_project("nasicon_test", base_dir=jfr_env / "proj", executor=True,
                         runner_delay_s=0.2)
    assert "executor_client.py" in path.read_text()
    table = load_synthesis_dataset().set_index("composition")
    formulas = list(table.index[[0, 10]])
    good = check_flow(formulas)
    submit_screen(good)
    lone = job(compute_descriptors)("Na3Qq2Si2PO12", "paper")
    submit_screen(lone)
    env = job(os.getenv)("NASICON_EXECUTOR_CHECK")
    submit_screen(env, exec_config={"export": {"NASICON_EXECUTOR_CHECK": "seen-by-the-job"}})
    run_jobs(max_seconds=600)

    rows = next(r for r in flow_results(good.uuid) if r.name == "descriptors").output
    for formula, row in zip(formulas, rows):
        assert row["ionic_radius_pm"] == pytest.approx(table.loc[formula, "ionic_radius_pm"],
                                                       abs=0.006)
    (failed,) = flow_results(lone.uuid)
    assert failed.state == "FAILED" and "Unknown element 'Qq'" in failed.error
    (seen,) = flow_results(env.uuid)
    assert seen.state == "COMPLETED" and seen.output == "seen-by-the-job"
    # jobflow-remote's own run log goes to the job's stderr file, as with `jf execution run`
    assert "Unknown element 'Qq'" not in (Path(seen.run_dir) / "queue.err").read_text()
    assert (Path(failed.run_dir) / "queue.err").stat().st_size > 0
    socket_path = executor_socket(jfr_env / "proj")
    assert not Path(socket_path).exists()  # stopped with the runner
    assert not Path(socket_path + ".log").exists()  # and its log removed


def test_executor_client_falls_back_to_jf_and_reports_usage(tmp_path):
    """Without an executor listening, the client becomes ``JF -fe execution run RUN_DIR``."""
    import subprocess
    import sys

    from nasicon_workflows.remote.executor import CLIENT_PATH

    fake_jf = tmp_path / "jf"
    fake_jf.write_text('#!/bin/sh\necho "jf $*"\n')
    fake_jf.chmod(0o755)
    run = subprocess.run(
        [sys.executable, "-I", "-S", str(CLIENT_PATH), str(tmp_path / "none.sock"), str(fake_jf),
         str(tmp_path / "job")], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout == f"jf -fe execution run {tmp_path / 'job'}\n"
    usage = subprocess.run([sys.executable, "-I", "-S", str(CLIENT_PATH)], capture_output=True,
                           text=True, check=False)
    assert usage.returncode == 2 and "usage: executor_client.py SOCKET JF RUN_DIR" in usage.stderr


def test_executor_errors_name_the_problem(tmp_path, jfr_env, capsys):
    from nasicon_workflows.remote.__main__ import main as remote_main
    from nasicon_workflows.remote.executor import PreloadedExecutor, executor_socket

    socket_path = executor_socket(tmp_path)
    with pytest.raises(RemoteSetupError, match="did not start.*No module named 'no_such_module'"):
        with PreloadedExecutor(socket_path, preload=["no_such_module"]):
            pass
    with PreloadedExecutor(socket_path, preload=["json"]) as first:
        # a second executor on the same socket leaves the first one in charge
        with PreloadedExecutor(socket_path, preload=["json"]) as second:
            assert second.process is None and first.process is not None
        from nasicon_workflows.remote.executor import main

        assert main([socket_path, "json"]) == 2  # refused: already served
        assert capsys.readouterr().err == f"error: an executor already listens on {socket_path}\n"
    assert not Path(socket_path).exists()
    with pytest.raises(ProjectTemplateError, match="no worker with an .*execution_cmd"):
        write_project("x", template="mongodb", projects_folder=tmp_path, executor=True,
                      **MONGODB_VALUES)
    # The command line: one error line and exit code 2.
    write_project("nasicon_test", base_dir=jfr_env / "proj")  # jf per job, no executor
    assert remote_main(["executor", "nasicon_test"]) == 2
    assert remote_main(["executor", "nowhere"]) == 2
    assert remote_main(["executor", "nasicon_test", "--max-parallel", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: project nasicon_test has 0 local workers using the pre")
    assert err[1].startswith("error: jobflow-remote project nowhere is not available")
    assert err[2] == "error: --max-parallel must be >= 1, got 0"


def test_screen_command_submits_to_the_project(jfr_env, capsys):
    """``python -m nasicon_workflows.screen --submit`` queues the screen; nothing runs yet."""
    from jobflow_remote import JobController

    from nasicon_workflows.screen.cli import main

    write_project("nasicon_test", base_dir=jfr_env / "proj")
    common = ["--compositions", "Na3.5Zr1.5Sc0.5Si2PO12", "--relax", "none", "--submit",
              "--worker", "local", "--out", str(jfr_env / "out")]
    assert main([*common, "--project", "nasicon_test"]) == 0
    controller = JobController.from_project_name("nasicon_test")
    try:
        jobs = controller.get_jobs_info()
    finally:
        controller.close()
    assert sorted(j.name for j in jobs) == ["screen classify", "screen gate"]
    assert {j.state.value for j in jobs} <= {"READY", "WAITING"} and {j.worker for j in jobs} == {
        "local"}

    # A project that does not exist: one error line, exit code 2, nothing queued anywhere.
    assert main([*common, "--project", "nowhere"]) == 2
    assert "error: jobflow-remote project nowhere is not available" in capsys.readouterr().err


#: Enumeration of the scale test: 488 compositions of 2-3 M cations on the 0.25 grid of the
#: 84-site cell (so every candidate is realised exactly within 100 atoms).
SCALE_ENUMERATION = {"dopant_pool": ["Zr", "Hf", "Sn", "Ti", "Sc", "Mg", "Y"], "n_cations": [2, 3]}


@pytest.mark.slow
@pytest.mark.scale
def test_screen_of_fifty_candidates_through_the_runner(jfr_env):
    """A screen of 50 candidates (enumerated and gated on the worker, no relaxation, one ordering
    each, BVSE at 0.5 Å) submitted to the embedded project and run by jobflow-remote's own Runner:
    every job, including the ~350 the gate and the BVSE stage add at run time, completes, and the
    ranking reads back with one row per candidate, equal to the ranking of the 50 candidate
    summaries read back on their own.

    The local worker starts jobs through the preloaded executor (docs/hpc.md: 161-280 s here on
    2 shared cores, against about 17 s per job, i.e. well over an hour, with a ``jf`` process per
    job).
    """
    from nasicon_workflows.screen.aggregate import ranking_row
    from nasicon_workflows.screen.documents import CandidateResult
    from nasicon_workflows.screen.ranking import rank_candidates

    write_project("nasicon_test", base_dir=jfr_env / "proj", executor=True, max_jobs="null",
                  runner_delay_s=0.2)
    screen = _Recording(ScreeningFlowMaker(enumeration=SCALE_ENUMERATION, top=50, orderings=1,
                                           relax="none", max_atoms=100, bvse_resolution=0.5,
                                           threshold=0.0))
    submit_screen(screen)
    run_jobs(max_seconds=1800)
    jobs = flow_results(screen.flow.uuid)
    assert {j.state for j in jobs} == {"COMPLETED"}, [(j.name, j.state, j.error) for j in jobs
                                                       if j.state != "COMPLETED"][:5]
    result = next(j for j in jobs if j.name == "screen aggregate").output
    selected = [r["composition"] for r in result["scored"] if r["selected"]]
    assert len(selected) == 50 and len(result["scored"]) == 100
    # Every selected candidate went through every stage of its subflow on the worker.
    for formula in selected:
        names = {j.name.split(" [")[0] for j in jobs if f"[{formula}" in j.name}
        assert names >= {"screen structures", "screen optimise configurations", "screen bvse",
                         "screen record bvse", "screen candidate summary"}, formula

    ranking = result["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, 51))
    assert {r["composition"] for r in ranking} == set(selected)
    assert all(math.isfinite(r["score"]) for r in ranking)
    # The ranking equals the library's ranking of the 50 summaries, each read back on its own.
    summaries = [CandidateResult.model_validate(j.output) for j in jobs
                 if j.name.startswith("screen candidate summary")]
    expected, _ = rank_candidates([ranking_row(c) for c in summaries])
    assert [r["composition"] for r in ranking] == list(expected["composition"])
    assert [r["score"] for r in ranking] == pytest.approx(list(expected["score"]), abs=1e-12)
    # The best candidate's barrier is the BVSE of its ordered cell, recomputed here.
    best = ranking[0]["composition"]
    structures = next(j for j in jobs if j.name == f"screen structures [{best}]").output
    cell = MontyDecoder().process_decoded(structures["structures"][0])
    assert ranking[0]["barrier_3D_mean_eV"] == pytest.approx(
        compute_bvse(cell, resolution=0.5).E_3D, abs=1e-9)
